"""Map pages: city violation map, school map, screening map, permitted-area map, tiles."""
