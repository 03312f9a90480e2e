// Rooms: spaces, their members and the direct (1:1) spaces between two people, as the
// Sim keeps them; messages and card actions live in them.

package webextest

import (
	"fmt"
	"slices"
	"time"
)

// The types of a Room.
const (
	RoomTypeDirect = "direct"
	RoomTypeGroup  = "group"
)

// Room is a Webex space: a group room, or the direct room of two people.
type Room struct {
	ID      string
	Title   string
	Type    string // RoomTypeDirect or RoomTypeGroup
	Members []string
	Created time.Time
}

func (r Room) clone() Room {
	r.Members = slices.Clone(r.Members)
	return r
}

// AddRoom adds a group room with the given members and returns it.
func (s *Sim) AddRoom(title string, memberIDs ...string) (Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.addRoomLocked("", title, RoomTypeGroup, memberIDs)
	if err != nil {
		return Room{}, err
	}
	s.changedLocked()
	return r.clone(), nil
}

func (s *Sim) addRoomLocked(id, title, typ string, memberIDs []string) (*Room, error) {
	if id == "" {
		id = s.newIDLocked(KindRoom)
	}
	if _, ok := s.rooms[id]; ok {
		return nil, fmt.Errorf("room %s exists", id)
	}
	for _, m := range memberIDs {
		if _, ok := s.people[m]; !ok {
			return nil, fmt.Errorf("room %q: no person %s", title, m)
		}
	}
	r := &Room{ID: id, Title: title, Type: typ, Members: slices.Compact(slices.Clone(memberIDs)), Created: s.nowLocked()}
	s.rooms[id] = r
	s.roomOrder = append(s.roomOrder, id)
	return r, nil
}

// AddMember adds a person to a group room.
func (s *Sim) AddMember(roomID, personID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rooms[roomID]
	switch {
	case !ok:
		return fmt.Errorf("no room %s", roomID)
	case r.Type != RoomTypeGroup:
		return fmt.Errorf("room %s is a direct room", roomID)
	}
	if _, ok := s.people[personID]; !ok {
		return fmt.Errorf("no person %s", personID)
	}
	if !slices.Contains(r.Members, personID) {
		r.Members = append(r.Members, personID)
		s.changedLocked()
	}
	return nil
}

// Room returns a room by id.
func (s *Sim) Room(id string) (Room, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneOf(s.rooms, id)
}

// Rooms returns every room, in the order they were created.
func (s *Sim) Rooms() []Room {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clonesInOrder(s.rooms, s.roomOrder)
}

func directKey(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// DirectRoom returns the id of the direct room of two people, if they have one.
func (s *Sim) DirectRoom(a, b string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.direct[directKey(a, b)]
	return id, ok
}

// EnsureDirectRoom returns the id of the direct room of two people, creating it if needed (as
// a message with toPersonEmail would).
func (s *Sim) EnsureDirectRoom(a, b string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pa, okA := s.people[a]
	pb, okB := s.people[b]
	switch {
	case !okA:
		return "", fmt.Errorf("no person %s", a)
	case !okB:
		return "", fmt.Errorf("no person %s", b)
	case a == b:
		return "", fmt.Errorf("a direct room needs two people")
	}
	r, err := s.ensureDirectLocked(pa, pb)
	if err != nil {
		return "", err
	}
	s.changedLocked()
	return r.ID, nil
}

func (s *Sim) ensureDirectLocked(a, b *Person) (*Room, error) {
	if id, ok := s.direct[directKey(a.ID, b.ID)]; ok {
		return s.rooms[id], nil
	}
	r, err := s.addRoomLocked("", b.DisplayName, RoomTypeDirect, []string{a.ID, b.ID})
	if err != nil {
		return nil, err
	}
	s.direct[directKey(a.ID, b.ID)] = r.ID
	return r, nil
}
