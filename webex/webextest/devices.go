// The device service (WDM) and the service catalog the websocket transport starts from, the
// look-up of REST ids by activity UUID, and spaces in another region (AddRoomIn).

package webextest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// DefaultDeviceLimit is how many devices a Sim lets one person register unless
// Options.DeviceLimit says otherwise. Webex's real limit is UNCONFIRMED: a Webex engineer
// quoted 750 per user in 2020, and the Webex JavaScript SDK now prunes its devices at 100.
const DefaultDeviceLimit = 100

// msgExcessiveDevices is the device service's refusal when the limit is reached, in the words
// users of the Webex bot frameworks report; its status (403 here) is simulated.
const msgExcessiveDevices = "User has excessive device registrations"

// Device is a device registration, as the device service (WDM) answers it.
type Device struct {
	URL            string    `json:"url"`
	Name           string    `json:"name"`
	DeviceType     string    `json:"deviceType"`
	Model          string    `json:"model"`
	LocalizedModel string    `json:"localizedModel"`
	SystemName     string    `json:"systemName"`
	SystemVersion  string    `json:"systemVersion"`
	WebSocketURL   string    `json:"webSocketUrl"`
	UserID         string    `json:"userId"` // the UUID of the person who registered it
	CreationTime   time.Time `json:"creationTime"`

	id    string // the registration id in the URLs
	owner string // the person's REST id
	// expired devices are still listed, but their websocket handshake answers 404, as a
	// registration Webex has forgotten does (see ExpireDevice).
	expired bool
}

// GET /u2c/api/v1/catalog?format=hostmap: the service catalog. The Sim serves its own device
// service, conversation service and REST API.
func (s *Sim) handleCatalog(q *request) reply {
	if q.query.Get("format") != "hostmap" {
		return errReply(failf(http.StatusBadRequest, "The Sim serves the catalog only with format=hostmap."))
	}
	return jsonReply(map[string]any{"serviceLinks": map[string]string{
		"wdm":          q.base + "/wdm/api/v1",
		"conversation": q.base + "/conversation/api/v1",
		"hydra":        q.base + "/v1",
	}})
}

// GET /wdm/api/v1/devices: the caller's devices.
func (s *Sim) handleListDevices(q *request) reply {
	list := []Device{}
	for _, id := range s.mercury.deviceOrder {
		if d := s.mercury.devices[id]; d.owner == q.who.personID {
			list = append(list, *d)
		}
	}
	return jsonReply(map[string][]Device{"devices": list})
}

// POST /wdm/api/v1/devices: registers a device. Webex answers 400 "Missing Model" without a
// model (reported by a Go client verified against Webex); requiring name and deviceType too
// is the Sim's strictness.
func (s *Sim) handleCreateDevice(q *request) reply {
	var in Device
	if err := decodeJSON(q.body, &in); err != nil {
		return errReply(err)
	}
	switch {
	case in.Model == "":
		return errReply(failf(http.StatusBadRequest, "Missing Model"))
	case in.Name == "", in.DeviceType == "":
		return errReply(failf(http.StatusBadRequest, "name and deviceType are required."))
	}
	n := 0
	for _, d := range s.mercury.devices {
		if d.owner == q.who.personID {
			n++
		}
	}
	if n >= s.deviceLimit() {
		return errReply(failf(http.StatusForbidden, msgExcessiveDevices))
	}
	_, _, userUUID, _ := splitID(q.who.personID)
	s.seq++
	id := derivedUUID("device", s.opts.IDSeed, fmt.Sprint(s.seq))
	d := &Device{
		URL: q.base + "/wdm/api/v1/devices/" + id, Name: in.Name, DeviceType: in.DeviceType, Model: in.Model,
		LocalizedModel: in.LocalizedModel, SystemName: in.SystemName, SystemVersion: in.SystemVersion,
		WebSocketURL: "ws" + strings.TrimPrefix(q.base, "http") + "/mercury/api/v1/apps/wx2/registrations/" + id + "/messages",
		UserID:       userUUID, CreationTime: q.now, id: id, owner: q.who.personID,
	}
	s.mercury.devices[id] = d
	s.mercury.deviceOrder = append(s.mercury.deviceOrder, id)
	s.mercury.registered[d.owner] = true
	s.changedLocked()
	return jsonReply(*d)
}

// DELETE /wdm/api/v1/devices/{id}: 204; closes the device's websocket.
func (s *Sim) handleDeleteDevice(q *request) reply {
	d, ok := s.mercury.devices[q.params[0]]
	if !ok || d.owner != q.who.personID {
		return errReply(failf(http.StatusNotFound, "Could not find a device with the given ID."))
	}
	delete(s.mercury.devices, d.id)
	s.mercury.deviceOrder = slices.DeleteFunc(s.mercury.deviceOrder, func(id string) bool { return id == d.id })
	s.closeSocketsLocked(func(c *wsConn) bool { return c.device == d.id })
	s.changedLocked()
	return reply{status: http.StatusNoContent}
}

func (s *Sim) deviceLimit() int {
	if s.opts.DeviceLimit > 0 {
		return s.opts.DeviceLimit
	}
	return DefaultDeviceLimit
}

// Devices returns every registered device, of every person, oldest first.
func (s *Sim) Devices() []Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Device, 0, len(s.mercury.deviceOrder))
	for _, id := range s.mercury.deviceOrder {
		out = append(out, *s.mercury.devices[id])
	}
	return out
}

// ExpireDevice makes a device's registration stale, as Webex forgets registrations: the
// device is still listed, but its websocket is closed and its handshake answers 404 until a
// new device is registered.
func (s *Sim) ExpireDevice(deviceURL string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.mercury.devices {
		if d.URL == deviceURL {
			d.expired = true
			s.closeSocketsLocked(func(c *wsConn) bool { return c.device == d.id })
			s.changedLocked()
			return nil
		}
	}
	return fmt.Errorf("no device %s", deviceURL)
}

// GET /conversation/api/v1/messages/{uuid}: the REST id of a message, looked up by the UUID
// a websocket activity carries. Only id is answered; the real answer may hold more, which
// attachbot does not rely on.
func (s *Sim) handleLookupMessage(q *request) reply {
	for _, id := range s.messageOrder {
		m, ok := s.messages[id]
		if _, _, uuid, _ := splitID(id); ok && uuid == q.params[0] && s.visibleLocked(q.who.personID, m) {
			return jsonReply(map[string]string{"id": m.ID})
		}
	}
	return errReply(failf(http.StatusNotFound, "Could not find a message with the given ID."))
}

// GET /conversation/api/v1/attachment/actions/{uuid}: the REST id of a card submission.
func (s *Sim) handleLookupAction(q *request) reply {
	for id, a := range s.actions {
		if _, _, uuid, _ := splitID(id); uuid == q.params[0] {
			if r := s.rooms[a.RoomID]; r != nil && slices.Contains(r.Members, q.who.personID) {
				return jsonReply(map[string]string{"id": a.ID})
			}
		}
	}
	return errReply(failf(http.StatusNotFound, "Could not find an attachment action with the given ID."))
}

// RegionEU is a region-qualified cluster, as Webex ids of spaces hosted in Frankfurt carry
// it: ciscospark://urn:TEAM:eu-central-1_k/ROOM/<uuid>.
const RegionEU = "urn:TEAM:eu-central-1_k"

// AddRoomIn is AddRoom for a space hosted in cluster (such as RegionEU): the ids of the room,
// of its messages and of their card submissions carry that cluster instead of "us", so a
// client that guesses ids in the US form gets 404.
func (s *Sim) AddRoomIn(cluster, title string, memberIDs ...string) (Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.addRoomLocked(s.newIDInLocked(cluster, KindRoom), title, RoomTypeGroup, memberIDs)
	if err != nil {
		return Room{}, err
	}
	s.changedLocked()
	return r.clone(), nil
}

// newIDInLocked returns a new id of kind in cluster ("" or "us": newIDLocked).
func (s *Sim) newIDInLocked(cluster, kind string) string {
	if cluster == "" || cluster == "us" {
		return s.newIDLocked(kind)
	}
	s.seq++
	for n := 0; ; n++ {
		uuid := derivedUUID("new", cluster, s.opts.IDSeed, fmt.Sprint(s.seq), fmt.Sprint(n))
		id := base64.RawStdEncoding.EncodeToString([]byte("ciscospark://" + cluster + "/" + kind + "/" + uuid))
		if !strings.ContainsAny(id, "+/") {
			return id
		}
	}
}

// clusterOf returns the cluster of an id ("us" when it cannot be read).
func clusterOf(id string) string {
	if cluster, _, _, ok := splitID(id); ok {
		return cluster
	}
	return "us"
}

// splitID splits any REST id, US-form or region-qualified, into cluster, kind and uuid.
func splitID(id string) (cluster, kind, uuid string, ok bool) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(id, "="))
	if err != nil {
		return "", "", "", false
	}
	rest, found := strings.CutPrefix(string(raw), "ciscospark://")
	i := strings.LastIndex(rest, "/")
	if !found || i < 0 {
		return "", "", "", false
	}
	j := strings.LastIndex(rest[:i], "/")
	if j < 0 {
		return "", "", "", false
	}
	return rest[:j], rest[j+1 : i], rest[i+1:], true
}
