"""Care plans: consolidation of recommendations, versions, signature and documents."""
