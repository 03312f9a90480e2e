package postgres

// ClaimPollsQuery is ClaimPolls' statement.
func ClaimPollsQuery() string { return claimPollsQuery() }
