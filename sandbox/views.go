package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"attachbot/webex/webextest"
)

// The views the API answers with.

// personView is someone the page shows or acts as.
type personView struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	// Role is "bot", "partner admin", "customer admin" or "outsider".
	Role string `json:"role"`
	// OrgName is the organization a customer admin administers.
	OrgName string `json:"orgName,omitempty"`
	// DirectSpaceID is the customer admin's direct space with the bot.
	DirectSpaceID string `json:"directSpaceId,omitempty"`
}

// spaceView is a space with its messages, oldest first.
type spaceView struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Type    string   `json:"type"` // direct or group
	Members []string `json:"members"`
	// With is, for a direct space with the bot, the other person.
	With     string        `json:"with,omitempty"`
	Messages []messageView `json:"messages"`
}

// messageView is a message as the page renders it.
type messageView struct {
	ID          string `json:"id"`
	ParentID    string `json:"parentId,omitempty"`
	PersonID    string `json:"personId"`
	PersonName  string `json:"personName"`
	PersonEmail string `json:"personEmail"`
	Text        string `json:"text"`
	Markdown    string `json:"markdown,omitempty"`
	// MentionsBot says the text starts with the bot's mention (a group space).
	MentionsBot bool `json:"mentionsBot,omitempty"`
	// Card is the Adaptive Card attached, as the bot sent it.
	Card json.RawMessage `json:"card,omitempty"`
	// Files are the files attached, to download.
	Files   []fileView `json:"files,omitempty"`
	Created time.Time  `json:"created"`
}

// stateView is everything the page shows but the scenarios.
type stateView struct {
	// Version changes whenever anything else does; GET state?since=<version> waits for it.
	Version string       `json:"version"`
	Bot     personView   `json:"bot"`
	People  []personView `json:"people"`
	Spaces  []spaceView  `json:"spaces"`
}

// scenarioView is a seeded organization: what it demonstrates and what to type.
type scenarioView struct {
	OrgID        string `json:"orgId"`
	OrgName      string `json:"orgName"`
	Description  string `json:"description"`
	Demonstrates string `json:"demonstrates"`
	Line         string `json:"line"`
	Check        string `json:"check"`
	AdminID      string `json:"adminId"`
	AdminName    string `json:"adminName"`
	AdminEmail   string `json:"adminEmail"`
	// Outcome is how the organization's next provisioning ends, and DelaySeconds how long
	// it takes (0: the simulator's default).
	Outcome      string  `json:"outcome"`
	DelaySeconds float64 `json:"delaySeconds"`
}

// scenariosView is the scenarios panel.
type scenariosView struct {
	Scenarios []scenarioView `json:"scenarios"`
	// Outcomes are the values the outcome control offers, with what each means.
	Outcomes []outcomeView `json:"outcomes"`
	// DefaultDelaySeconds is how long provisioning takes when nothing else is said.
	DefaultDelaySeconds float64 `json:"defaultDelaySeconds"`
	// Applied is the outcome control's setting as last applied (as seeded, for every
	// organization, at first), so that the page shows it again after a reload.
	Applied outcomeRequest `json:"applied"`
	// Sample is the sample bulk file to download, and MaxFileBytes the largest file the
	// page may post.
	Sample       sampleView `json:"sample"`
	MaxFileBytes int        `json:"maxFileBytes"`
}

// sampleView is the sample bulk file: where to download it and what its rows show.
type sampleView struct {
	Name  string `json:"name"`
	URL   string `json:"url"`
	About string `json:"about"`
}

// outcomeView is one choice of the outcome control.
type outcomeView struct {
	Status  string `json:"status"`
	Meaning string `json:"meaning"`
}

// state builds the page's view of the simulated Webex.
func (e *sandboxEnv) state() (stateView, error) {
	botPerson, _ := e.sim.Person(webextest.BotID)
	v := stateView{Bot: personOf(botPerson, "bot"), Spaces: []spaceView{}}
	if ann, ok := e.sim.Person(webextest.AnnID); ok {
		v.People = append(v.People, personOf(ann, "partner admin"))
	}
	for _, o := range e.seeded {
		p, ok := e.sim.Person(o.AdminID)
		if !ok {
			continue
		}
		pv := personOf(p, "customer admin")
		pv.OrgName = o.Name
		pv.DirectSpaceID, _ = e.sim.DirectRoom(webextest.BotID, o.AdminID)
		v.People = append(v.People, pv)
	}
	if eve, ok := e.sim.Person(webextest.EveID); ok {
		v.People = append(v.People, personOf(eve, "outsider"))
	}
	names := map[string]string{}
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		p, _ := e.sim.Person(id)
		names[id] = p.DisplayName
		return p.DisplayName
	}
	for _, r := range e.sim.Rooms() {
		if !slices.Contains(r.Members, webextest.BotID) {
			continue
		}
		sv := spaceView{ID: r.ID, Title: r.Title, Type: r.Type, Members: r.Members, Messages: []messageView{}}
		if r.Type == webextest.RoomTypeDirect {
			for _, m := range r.Members {
				if m != webextest.BotID {
					sv.With, sv.Title = m, name(m)
				}
			}
		}
		for _, m := range e.sim.Messages(r.ID) {
			mv := messageView{
				ID: m.ID, ParentID: m.ParentID, PersonID: m.PersonID, PersonName: name(m.PersonID),
				PersonEmail: m.PersonEmail, Text: m.Text, Markdown: m.Markdown, Created: m.Created,
				MentionsBot: m.PersonID != webextest.BotID && slices.Contains(m.MentionedPeople, webextest.BotID),
			}
			mv.Files = e.filesOf(m)
			for _, a := range m.Attachments {
				if a.ContentType == webextest.CardContentType {
					mv.Card = a.Content
				}
			}
			sv.Messages = append(sv.Messages, mv)
		}
		v.Spaces = append(v.Spaces, sv)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return stateView{}, fmt.Errorf("encode the state: %w", err)
	}
	sum := sha256.Sum256(b)
	v.Version = hex.EncodeToString(sum[:8])
	return v, nil
}

// personOf returns the view of a simulated person.
func personOf(p webextest.Person, role string) personView {
	email := ""
	if len(p.Emails) > 0 {
		email = p.Emails[0]
	}
	return personView{ID: p.ID, Name: p.DisplayName, Email: email, Role: role}
}
