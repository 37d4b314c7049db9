package access

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Level is the kind of a permission.
type Level uint8

// Levels, weakest first. None is "no permission" and is never granted.
const (
	None Level = iota
	Read
	Write
	Admin
)

// Permission is Read, Write(priority) or Admin(priority). A lower priority
// number is more power: the total order is Read < Write(MaxUint32) < … <
// Write(0) < Admin(MaxUint32) < … < Admin(0).
type Permission struct {
	Level    Level
	Priority uint32 // unused for Read and None
}

// Constructors, for readability at call sites.
var (
	PermRead = Permission{Level: Read}
)

// PermWrite is Write(priority).
func PermWrite(priority uint32) Permission { return Permission{Level: Write, Priority: priority} }

// PermAdmin is Admin(priority).
func PermAdmin(priority uint32) Permission { return Permission{Level: Admin, Priority: priority} }

// Compare orders p and q by power: -1 when p is weaker, 0 equal, +1 stronger.
func (p Permission) Compare(q Permission) int {
	switch {
	case p.Level != q.Level:
		if p.Level < q.Level {
			return -1
		}
		return 1
	case p.Level == Read || p.Level == None || p.Priority == q.Priority:
		return 0
	case p.Priority > q.Priority:
		return -1
	default:
		return 1
	}
}

// Satisfies reports whether holding p allows what req asks (p >= req).
func (p Permission) Satisfies(req Permission) bool {
	return p.Level != None && p.Compare(req) >= 0
}

// Clamp returns p lowered to at most ceiling.
func (p Permission) Clamp(ceiling Permission) Permission {
	if p.Compare(ceiling) > 0 {
		return ceiling
	}
	return p
}

func (p Permission) String() string {
	switch p.Level {
	case Read:
		return "Read"
	case Write:
		return fmt.Sprintf("Write(%d)", p.Priority)
	case Admin:
		return fmt.Sprintf("Admin(%d)", p.Priority)
	}
	return "None"
}

// ParsePermission reads the forms a user types: read, write, write:10,
// admin, admin:0 (case-insensitive; priority 0 when omitted), or the String
// forms Read, Write(10), Admin(0).
func ParsePermission(s string) (Permission, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.Replace(t, "(", ":", 1), ")")
	name, num, hasNum := strings.Cut(t, ":")
	var p Permission
	switch name {
	case "read":
		if hasNum {
			return Permission{}, fmt.Errorf("access: permission %q: read takes no priority", s)
		}
		return PermRead, nil
	case "write":
		p.Level = Write
	case "admin":
		p.Level = Admin
	default:
		return Permission{}, fmt.Errorf("access: permission %q: want read, write[:N] or admin[:N]", s)
	}
	if hasNum {
		n, err := strconv.ParseUint(num, 10, 32)
		if err != nil {
			return Permission{}, fmt.Errorf("access: permission %q: priority must be 0..%d", s, uint32(math.MaxUint32))
		}
		p.Priority = uint32(n)
	}
	return p, nil
}

// MarshalJSON writes the reference's shape: "Read", {"Write":n}, {"Admin":n}.
func (p Permission) MarshalJSON() ([]byte, error) {
	switch p.Level {
	case Read:
		return []byte(`"Read"`), nil
	case Write:
		return []byte(`{"Write":` + strconv.FormatUint(uint64(p.Priority), 10) + `}`), nil
	case Admin:
		return []byte(`{"Admin":` + strconv.FormatUint(uint64(p.Priority), 10) + `}`), nil
	}
	return nil, fmt.Errorf("access: permission None has no wire form")
}

// UnmarshalJSON reads the reference's shape.
func (p *Permission) UnmarshalJSON(data []byte) error {
	var name string
	if json.Unmarshal(data, &name) == nil {
		if name != "Read" {
			return fmt.Errorf("access: permission %q: want \"Read\", {\"Write\":n} or {\"Admin\":n}", name)
		}
		*p = PermRead
		return nil
	}
	var obj map[string]uint32
	if err := json.Unmarshal(data, &obj); err != nil || len(obj) != 1 {
		return fmt.Errorf("access: permission %s: want \"Read\", {\"Write\":n} or {\"Admin\":n}", clip(data))
	}
	if n, ok := obj["Write"]; ok {
		*p = PermWrite(n)
		return nil
	}
	if n, ok := obj["Admin"]; ok {
		*p = PermAdmin(n)
		return nil
	}
	return fmt.Errorf("access: permission %s: unknown variant", clip(data))
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}
