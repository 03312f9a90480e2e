package bot

import "testing"

func TestScheduleText(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"0 8 * * 1-5", "weekdays at 08:00 UTC"},
		{"30 7 * * *", "every day at 07:30 UTC"},
		{"0 8,14 * * *", "every day at 08:00 and 14:00 UTC"},
		{"0 7 * * 1", "Mondays at 07:00 UTC"},
		{"0 7 * * 1,4", "Mondays and Thursdays at 07:00 UTC"},
		{"0 7 * * 2-4", "Tuesday to Thursday at 07:00 UTC"},
		{"0 9 * * 0,6", "weekends at 09:00 UTC"},
		{"0 9 * * sun", "Sundays at 09:00 UTC"},
		{"0 6 1 * *", "on day 1 of every month at 06:00 UTC"},
		{"15 * * * *", "every hour at minute 15"},
		{"@daily", "every day at 00:00 UTC"},
		{"@hourly", "every hour, on the hour"},
		{"@weekly", "Sundays at 00:00 UTC"},
		{"@every 2h", "every 2h"},
		{"*/30 8 * * *", "on the schedule `*/30 8 * * *` (UTC)"},
		{"0 8 1 1 *", "on the schedule `0 8 1 1 *` (UTC)"},
		{"0 8 * * 5-1", "on the schedule `0 8 * * 5-1` (UTC)"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			if got := scheduleText(tt.spec); got != tt.want {
				t.Errorf("scheduleText(%q) = %q, want %q", tt.spec, got, tt.want)
			}
		})
	}
}
