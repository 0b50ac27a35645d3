// Named datasets.
