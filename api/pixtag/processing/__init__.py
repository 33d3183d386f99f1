"""Image processing (seed 003): new images made from stored ones by jobs of the "processing"
queue (resize, thumbnail, flip, rotate, grayscale, crop)."""
