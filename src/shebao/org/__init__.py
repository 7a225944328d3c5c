"""Organisation: towns, villages and grid cells below the GB/T 2260 tree; service outlets;
staff at outlets; staffing from workload; administration budgets; outsourcing."""
