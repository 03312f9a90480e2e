package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// scheduleText says a digest's cron schedule (UTC) in words: "weekdays at 08:00 UTC" for
// "0 8 * * 1-5". The common shapes are put in words (a minute and hours on every day, on
// chosen weekdays or on a day of the month, every hour, the @ shorthands); any other
// schedule is shown as it is, in a code span.
func scheduleText(spec string) string {
	spec = strings.TrimSpace(spec)
	switch strings.ToLower(spec) {
	case "@daily", "@midnight":
		return "every day at 00:00 UTC"
	case "@hourly":
		return "every hour, on the hour"
	case "@weekly":
		return "Sundays at 00:00 UTC"
	case "@monthly":
		return "on the 1st of every month at 00:00 UTC"
	case "@yearly", "@annually":
		return "on 1 January at 00:00 UTC"
	}
	if every, ok := strings.CutPrefix(spec, "@every "); ok {
		if _, err := time.ParseDuration(strings.TrimSpace(every)); err == nil {
			return "every " + strings.TrimSpace(every)
		}
	}
	literal := "on the schedule " + Code(spec) + " (UTC)"
	f := strings.Fields(spec)
	if len(f) != 5 || f[3] != "*" {
		return literal
	}
	minute, ok := cronNumber(f[0], 0, 59)
	if !ok {
		return literal
	}
	if f[1] == "*" {
		if f[2] == "*" && f[4] == "*" {
			return fmt.Sprintf("every hour at minute %d", minute)
		}
		return literal
	}
	var times []string
	for _, h := range strings.Split(f[1], ",") {
		hour, ok := cronNumber(h, 0, 23)
		if !ok {
			return literal
		}
		times = append(times, fmt.Sprintf("%02d:%02d", hour, minute))
	}
	at := "at " + joinWords(times, "and") + " UTC"
	switch {
	case f[2] == "*" && f[4] == "*":
		return "every day " + at
	case f[2] == "*":
		if days, ok := weekdaysText(f[4]); ok {
			return days + " " + at
		}
	case f[4] == "*":
		if day, ok := cronNumber(f[2], 1, 31); ok {
			return fmt.Sprintf("on day %d of every month %s", day, at)
		}
	}
	return literal
}

// weekdaysText says a cron day-of-week field in words: "weekdays", "weekends", "Mondays and
// Thursdays", "Monday to Wednesday".
func weekdaysText(field string) (string, bool) {
	switch field {
	case "1-5", "MON-FRI", "mon-fri":
		return "weekdays", true
	case "0,6", "6,0", "SAT,SUN", "sat,sun", "SUN,SAT", "sun,sat":
		return "weekends", true
	}
	if from, to, ok := strings.Cut(field, "-"); ok {
		a, okA := cronWeekday(from)
		b, okB := cronWeekday(to)
		if !okA || !okB || a >= b {
			return "", false
		}
		return fmt.Sprintf("%s to %s", a, b), true
	}
	var days []string
	for _, d := range strings.Split(field, ",") {
		day, ok := cronWeekday(d)
		if !ok {
			return "", false
		}
		days = append(days, day.String()+"s")
	}
	return joinWords(days, "and"), true
}

// cronWeekday reads a cron weekday: 0 to 7 (0 and 7 are Sunday) or a three-letter name.
func cronWeekday(s string) (time.Weekday, bool) {
	if n, ok := cronNumber(s, 0, 7); ok {
		return time.Weekday(n % 7), true
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(s, d.String()[:3]) {
			return d, true
		}
	}
	return 0, false
}

// cronNumber reads a plain number between lo and hi.
func cronNumber(s string, lo, hi int) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi || strings.HasPrefix(s, "+") {
		return 0, false
	}
	return n, true
}

// joinWords joins words as "a, b and c".
func joinWords(words []string, and string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + and + " " + words[len(words)-1]
}
