// Package mercury receives attachbot's Webex events over Webex's websocket ("Mercury")
// instead of webhooks, so that the bot needs no public address.
//
// Webex does not document this protocol publicly; the Webex JavaScript SDK, the Python
// webex_bot framework and other peers use it, and docs/websocket.md lists what this package
// relies on and where each fact comes from. Where a fact is unconfirmed, the code says so and
// copes with either answer.
//
// A Transport:
//   - finds the device service (WDM) in the U2C service catalog, or uses the fallback URL
//     when the catalog cannot be read;
//   - reuses the bot's own device, found by name, or registers one, and deletes it when Run
//     ends;
//   - dials the device's websocket through the proxy of the HTTP client's transport (or the
//     one Options.Proxy chooses), sends the authorization frame, waits for
//     mercury.buffer_state and pings;
//   - turns each conversation.activity with verb post or cardAction into the bot.Event a
//     messages/created or attachmentActions/created webhook would have produced, with the
//     REST id resolved through the activity's conversation URL;
//   - hands the event to its Sink and acknowledges the activity only once the Sink accepted
//     it, so an event the Sink could not store is delivered again after a reconnect;
//   - reconnects with jittered backoff, registers a new device when the old one is stale or
//     refused, and reports its state through Status.
//
// The websocket library is github.com/gorilla/websocket: its Dialer takes a proxy function of
// the same type as http.ProxyFromEnvironment and tunnels ws and wss alike with HTTP CONNECT,
// it returns the handshake's HTTP response (so a stale registration's 404 can be told from
// other failures), and it is the library the Webex Go SDK uses.
package mercury
