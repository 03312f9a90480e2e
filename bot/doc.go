// Package bot is attachbot's domain core: the commands partner admins type, the eligibility
// rules for attaching Webex for Wholesale to an existing organization, the approval of the
// customer admin, provisioning, and the durable inbox and outbox that make sure no event or
// reply is lost.
//
// bot imports no other package of this repository. It declares the small interfaces it needs
// (Messenger and Partner for Webex, Store for persistence, Cards for Adaptive Cards, Clock for
// time) and the adapters in webex, store and cards implement them.
package bot
