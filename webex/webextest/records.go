// How the Sim hands out its records (people, organizations, rooms, messages, card actions,
// webhooks, calls, deliveries): always as copies, so that no caller shares its state; and how
// a test's change to one record wakes WaitFor.

package webextest

// cloner is a record that makes a deep copy of itself.
type cloner[T any] interface {
	clone() T
}

// changeLocked runs set on m[key] and wakes WaitFor; when there is no m[key] it returns
// missing and changes nothing. The caller holds s.mu.
func changeLocked[K comparable, T any](s *Sim, m map[K]*T, key K, missing error, set func(*T)) error {
	v, ok := m[key]
	if !ok {
		return missing
	}
	set(v)
	s.changedLocked()
	return nil
}

// cloneOf returns a copy of m[id], or false when there is none. The caller holds s.mu.
func cloneOf[T cloner[T]](m map[string]*T, id string) (T, bool) {
	v, ok := m[id]
	if !ok {
		var zero T
		return zero, false
	}
	return (*v).clone(), true
}

// clonesInOrder returns copies of m's records in the order of the ids in order. The caller
// holds s.mu.
func clonesInOrder[T cloner[T]](m map[string]*T, order []string) []T {
	out := make([]T, 0, len(order))
	for _, id := range order {
		out = append(out, (*m[id]).clone())
	}
	return out
}

// cloneAll returns a copy of list with every record copied. The caller holds s.mu.
func cloneAll[T cloner[T]](list []T) []T {
	out := make([]T, len(list))
	for i, v := range list {
		out[i] = v.clone()
	}
	return out
}
