package sim

// queue is the discrete-event queue: events ordered by (time, insertion
// sequence), so that two events at the same millisecond run in the order
// they were scheduled and a run never depends on heap tie-breaking.
type queue struct {
	items []qitem
	seq   uint64
}

type qitem struct {
	at  int64 // simulated milliseconds
	seq uint64
	fn  func()
}

func (q *queue) len() int { return len(q.items) }

func (q *queue) less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

// push schedules fn at time at.
func (q *queue) push(at int64, fn func()) {
	q.seq++
	q.items = append(q.items, qitem{at: at, seq: q.seq, fn: fn})
	for i := len(q.items) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.items[i], q.items[p] = q.items[p], q.items[i]
		i = p
	}
}

// pop removes and returns the next event.
func (q *queue) pop() qitem {
	top := q.items[0]
	last := len(q.items) - 1
	q.items[0] = q.items[last]
	q.items[last] = qitem{}
	q.items = q.items[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && q.less(l, m) {
			m = l
		}
		if r < last && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q.items[i], q.items[m] = q.items[m], q.items[i]
		i = m
	}
	return top
}
