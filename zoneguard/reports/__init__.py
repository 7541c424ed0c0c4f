"""Reports: 一校一表 per school, district summaries, exports, measurement records."""
