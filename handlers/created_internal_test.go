package handlers

import (
	"testing"
	"time"
)

func TestParseCreated(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2015-10-18T14:26:16.203Z", time.Date(2015, 10, 18, 14, 26, 16, 203e6, time.UTC)},
		{"2015-10-18T14:26:16Z", time.Date(2015, 10, 18, 14, 26, 16, 0, time.UTC)},
		{"", time.Time{}},
		{"yesterday", time.Time{}},
	}
	for _, tt := range tests {
		if got := parseCreated(tt.in); !got.Equal(tt.want) {
			t.Errorf("parseCreated(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
