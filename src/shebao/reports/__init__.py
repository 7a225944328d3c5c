"""Fund accounts and statements (revenue, fiscal subsidy, expense per fund and region; budget
and final accounts) and monthly statistical reports, read from the ledger and the registry."""
