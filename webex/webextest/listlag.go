// List lag: GET /v1/wholesale/customers leaving out the latest provisionings for a few
// answers, the worst case of a list that may lag (whether Webex's does is not documented).

package webextest

// listLag makes GET /v1/wholesale/customers lag behind POST /v1/wholesale/customers, as a
// search index may behind the store it indexes: customers created after LagCustomerList
// are left out of the next few list answers, while GET /v1/wholesale/customers/{id} and the
// checks of a new POST (409 for an org or externalId taken) already see them. Whether and
// how long real Webex lags is not documented; this lets tests play the worst case.
type listLag struct {
	from int // the customers from this index of customerOrder on are left out
	left int // how many more list answers leave them out
}

// LagCustomerList makes GET /v1/wholesale/customers leave out the customers created from
// now on, whatever the query, in its next answers (counting only the answers given once such
// a customer exists).
func (s *Sim) LagCustomerList(answers int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listLag = listLag{from: len(s.customerOrder), left: answers}
	s.changedLocked()
}

// listedLocked returns how many customers of customerOrder (of n) a list answer shows, and
// counts the answer.
func (l *listLag) listedLocked(n int) int {
	if l.left <= 0 || l.from >= n {
		return n
	}
	l.left--
	return l.from
}
