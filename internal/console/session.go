package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"sync"
	"time"
)

// session is one signed-in browser. It holds no secret: the access key's
// secret is checked at sign-in and forgotten.
type session struct {
	id          string
	csrf        string
	accountID   string
	accessKeyID string
	expires     time.Time // the end of its lifetime
	lastSeen    time.Time
}

func (s *session) info() sessionInfo {
	return sessionInfo{AccessKeyID: s.accessKeyID, AccountID: s.accountID, CSRFToken: s.csrf, Expires: s.expires}
}

func (s *session) csrfMatches(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// secretMatches compares secrets in time that does not depend on where they
// differ: hashing first also hides their lengths.
func secretMatches(want, got string) bool {
	a, b := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1 && want != ""
}

// sessions keeps the live sessions of this node in memory: a restart signs
// everyone out, and behind a load balancer that spreads one browser's
// requests over several nodes, sign-in needs sticky sessions.
type sessions struct {
	lifetime, idle time.Duration
	now            func() time.Time

	mu   sync.Mutex
	byID map[string]*session
}

// maxSessions bounds the sessions kept; past it, sign-in fails until some
// expire.
const maxSessions = 10000

func newSessions(lifetime, idle time.Duration, now func() time.Time) *sessions {
	return &sessions{lifetime: lifetime, idle: idle, now: now, byID: map[string]*session{}}
}

// open starts a session for a key.
func (ss *sessions) open(accessKeyID, accountID string) (*session, error) {
	now := ss.now()
	s := &session{id: rand.Text() + rand.Text(), csrf: rand.Text() + rand.Text(), accountID: accountID, accessKeyID: accessKeyID,
		expires: now.Add(ss.lifetime), lastSeen: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.byID) >= maxSessions {
		ss.sweepLocked(now)
		if len(ss.byID) >= maxSessions {
			return nil, errors.New("the console has too many sessions open; try again when some have ended")
		}
	}
	ss.byID[s.id] = s
	return s, nil
}

// get returns a live session and marks it used.
func (ss *sessions) get(id string) (*session, bool) {
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byID[id]
	if !ok {
		return nil, false
	}
	if !ss.liveLocked(s, now) {
		delete(ss.byID, id)
		return nil, false
	}
	s.lastSeen = now
	c := *s
	return &c, true
}

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	delete(ss.byID, id)
	ss.mu.Unlock()
}

func (ss *sessions) liveLocked(s *session, now time.Time) bool {
	return now.Before(s.expires) && now.Before(s.lastSeen.Add(ss.idle))
}

func (ss *sessions) sweepLocked(now time.Time) {
	for id, s := range ss.byID {
		if !ss.liveLocked(s, now) {
			delete(ss.byID, id)
		}
	}
}
