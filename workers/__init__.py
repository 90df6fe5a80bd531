"""Background workers: arq job functions over the domain services."""
