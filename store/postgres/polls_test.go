package postgres_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"attachbot/bot"
	"attachbot/store/postgres"
)

// TestClaimPollsReadsItsIndex: the partial index requests_polls_due holds the requests in the
// bot's polled states, and the claim of the due polls, FirstPoll and DuePolls read it, also in
// the generic plan a prepared statement comes to, so that none walks the requests that ended.
func TestClaimPollsReadsItsIndex(t *testing.T) {
	ctx := context.Background()
	url := server.Database(t)
	open(t, url) // migrates the database
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })

	var predicate string
	err = conn.QueryRow(ctx, `SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = 'requests_polls_due'::regclass`).Scan(&predicate)
	if err != nil {
		t.Fatalf("read the index's condition: %v", err)
	}
	var got []string
	for _, m := range regexp.MustCompile(`'([^']*)'`).FindAllStringSubmatch(predicate, -1) {
		got = append(got, m[1])
	}
	var want []string
	for _, s := range bot.PolledStates() {
		want = append(want, string(s))
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("the states of requests_polls_due (%s) are not the polled states: add a migration that indexes them (-want +got):\n%s", predicate, diff)
	}

	// Without the other ways in, the planner takes the index if, and only if, its condition
	// holds for every row a statement selects.
	for _, set := range []string{"SET enable_seqscan = off", "SET enable_bitmapscan = off", "SET plan_cache_mode = force_generic_plan",
		"PREPARE claim(text, timestamptz, timestamptz, bigint) AS " + postgres.ClaimPollsQuery(),
		"PREPARE first(bigint) AS " + postgres.FirstPollQuery(),
		"PREPARE due(timestamptz) AS " + postgres.DuePollsQuery()} {
		if _, err := conn.Exec(ctx, set, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("%.60s: %v", set, err)
		}
	}
	for _, execute := range []string{"claim('A', now(), now(), 1000)", "first(64)", "due(now())"} {
		rows, err := conn.Query(ctx, "EXPLAIN EXECUTE "+execute, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(plan, "\n"), "requests_polls_due") {
			t.Errorf("the generic plan of %s does not read requests_polls_due:\n%s", execute, strings.Join(plan, "\n"))
		}
	}
}
