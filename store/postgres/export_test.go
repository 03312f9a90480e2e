package postgres

// ClaimPollsQuery is ClaimPolls' statement.
func ClaimPollsQuery() string { return claimPollsQuery() }

// FirstPollQuery is FirstPoll's statement.
func FirstPollQuery() string { return firstPollQuery() }

// DuePollsQuery is DuePolls' statement.
func DuePollsQuery() string { return duePollsQuery() }
