// Package webextest is a stateful, in-process fake of the Webex REST API for attachbot's tests
// and its browser sandbox.
//
// A Sim is an http.Handler serving paths under /v1 in Webex's JSON wire format: people,
// messages, attachment actions, webhooks, the wholesale customer API and its precheck,
// licenses, organizations, partner admins and the OAuth refresh grant. It checks bearer
// tokens per endpoint, refuses every query and body that does not conform to the operation's
// schema in Webex's official OpenAPI specs (see shape.go and ShapeRefusals), answers errors in
// Webex's shape with a trackingId, records every call,
// injects faults (statuses, Retry-After, latency, "timeout after Webex acted"), and delivers
// signed webhook events to a target URL as Webex does. Serve it with httptest.NewServer:
//
//	sim := webextest.New(webextest.Options{})
//	srv := httptest.NewServer(sim)
//	defer srv.Close()
//	// point the client at srv.URL + "/v1" with token webextest.DefaultBotToken
//
// Absolute URLs in answers (Location, Link rel="next", the wholesale customer url) are built
// from the request's Host (scheme http, or https behind TLS), so they point back at the server
// the client called.
//
// Time comes from Options.Now. Provisioning status moves on lazily: it is computed whenever
// the state is read, and no goroutine runs in the background. Webhook deliveries are
// synchronous: they happen before the call that caused them (Say, Click, or a person's POST
// /v1/messages) returns, and without the Sim's lock held, so the receiver may call back into
// the Sim.
//
// The Sim also serves what the websocket transport needs (mercury.go, devices.go): the
// service catalog (GET /u2c/api/v1/catalog), the device service (/wdm/api/v1/devices), the
// websocket of each device (/mercury/…), which gets a conversation.activity for every message
// and card submission the bot may see, and the lookup of REST ids by activity UUID
// (/conversation/api/v1/…). It records acknowledgements, writes unacknowledged activities
// again after a reconnect, and injects the websocket's faults (DropConnections, ExpireDevice,
// HoldBufferState, AddRoomIn, and Fault on the device service).
//
// Where the Sim has to go beyond what Webex documents (error codes of the precheck, which
// role the partner gets), the choice is marked in the documentation as simulated,
// UNCONFIRMED or an inference.
package webextest
