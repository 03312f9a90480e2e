package bot

import (
	"testing"
	"time"
)

func TestParseRequestID(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"K7QM2X", "K7QM2X", true},
		{" #k7qm2x ", "K7QM2X", true},
		{"K7QM2", "", false},
		{"K7QM2XX", "", false},
		{"K7QMOX", "", false}, // O is a look-alike, not of the alphabet
		{"K7QM1X", "", false},
		{"K7QM2Ø", "", false},
		{"[x](y)", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseRequestID(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseRequestID(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
	for salt := range 50 {
		id := requestID("messages/created/X", salt)
		if got, ok := ParseRequestID(id); !ok || got != id {
			t.Errorf("a generated id %q does not parse: %q, %v", id, got, ok)
		}
	}
}

func TestIsFullAdminRole(t *testing.T) {
	tests := []struct {
		role string
		want bool
	}{
		{"Y2lzY29zcGFyazovL3VzL1JPTEUvaWRfZnVsbF9hZG1pbg", true},   // ciscospark://us/ROLE/id_full_admin
		{"Y2lzY29zcGFyazovL3VzL1JPTEUvaWRfZnVsbF9hZG1pbg==", true}, // padded
		{"id_full_admin", true},
		{"Full_Admin", true},
		{"Y2lzY29zcGFyazovL3VzL1JPTEUvaWRfdXNlcl9hZG1pbg", false},                               // id_user_admin
		{"Y2lzY29zcGFyazovL3VzL1JPTEUvOTZhYmMyYWEtM2RjYy0xMWU1LWExNTItZmUzNDgxOWNkYzlh", false}, // a role by UUID
		{"User", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isFullAdminRole(tt.role); got != tt.want {
			t.Errorf("isFullAdminRole(%q) = %v, want %v", tt.role, got, tt.want)
		}
	}
}

func TestStale(t *testing.T) {
	received := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		created time.Time
		want    bool
	}{
		{"unknown", time.Time{}, false},
		{"just now", received.Add(-time.Second), false},
		{"a day ago exactly", received.Add(-MaxEventAge), false},
		{"a day and a second ago", received.Add(-MaxEventAge - time.Second), true},
		{"eight days ago", received.Add(-8 * 24 * time.Hour), true},
	}
	for _, tt := range tests {
		if got := stale(tt.created, received); got != tt.want {
			t.Errorf("%s: stale = %v, want %v", tt.name, got, tt.want)
		}
	}
}
