package redisstore

import (
	"fmt"
	"strconv"
	"time"

	"github.com/twofactor-go/twofactor"
)

// record is the fields of one Redis hash, as HGETALL returns them.
type record map[string]string

// parseRecordReply reads a script reply of the form {1, field, value, ...}
// or {0}, and reports whether the record was found.
func parseRecordReply(reply any) (record, bool, error) {
	items, ok := reply.([]any)
	if !ok || len(items) == 0 {
		return nil, false, fmt.Errorf("unexpected script reply %T", reply)
	}
	found, ok := items[0].(int64)
	if !ok {
		return nil, false, fmt.Errorf("unexpected script status %T", items[0])
	}
	if found == 0 {
		return nil, false, nil
	}
	if len(items)%2 != 1 {
		return nil, false, fmt.Errorf("script reply has %d items, want an odd number", len(items))
	}
	r, err := parseFields(items[1:])
	if err != nil {
		return nil, false, err
	}
	return r, true, nil
}

// parseFields reads a flat list of field names and values, as HGETALL
// returns it inside a script. A value that is not a string, such as the nil
// of a missing field, is left out.
func parseFields(items []any) (record, error) {
	if len(items)%2 != 0 {
		return nil, fmt.Errorf("record in script reply has %d items, want an even number", len(items))
	}
	r := make(record, len(items)/2)
	for i := 0; i < len(items); i += 2 {
		name, ok := items[i].(string)
		if !ok {
			return nil, fmt.Errorf("unexpected field name %T in script reply", items[i])
		}
		if value, ok := items[i+1].(string); ok {
			r[name] = value
		}
	}
	return r, nil
}

func (r record) str(field string) (string, error) {
	v, ok := r[field]
	if !ok {
		return "", fmt.Errorf("field %q is missing", field)
	}
	return v, nil
}

func (r record) int64(field string) (int64, error) {
	v, err := r.str(field)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("field %q: %w", field, err)
	}
	return n, nil
}

func (r record) int(field string) (int, error) {
	n, err := r.int64(field)
	return int(n), err
}

func (r record) uint8(field string) (uint8, error) {
	v, err := r.str(field)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(v, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("field %q: %w", field, err)
	}
	return uint8(n), nil
}

func (r record) bool(field string) (bool, error) {
	v, err := r.str(field)
	if err != nil {
		return false, err
	}
	switch v {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, fmt.Errorf("field %q is %q, want 0 or 1", field, v)
}

func (r record) time(field string) (time.Time, error) {
	n, err := r.int64(field)
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMicro(n).UTC(), nil
}

// decoder reads fields of a record and keeps the first error, so that a
// decoding function can read every field and check once.
type decoder struct {
	r   record
	err error
}

func (d *decoder) keep(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) str(field string) string {
	v, err := d.r.str(field)
	d.keep(err)
	return v
}

func (d *decoder) bytes(field string) []byte {
	return []byte(d.str(field))
}

func (d *decoder) int(field string) int {
	v, err := d.r.int(field)
	d.keep(err)
	return v
}

func (d *decoder) int64(field string) int64 {
	v, err := d.r.int64(field)
	d.keep(err)
	return v
}

func (d *decoder) uint8(field string) uint8 {
	v, err := d.r.uint8(field)
	d.keep(err)
	return v
}

func (d *decoder) bool(field string) bool {
	v, err := d.r.bool(field)
	d.keep(err)
	return v
}

func (d *decoder) time(field string) time.Time {
	v, err := d.r.time(field)
	d.keep(err)
	return v
}

// optional reads field with read when the record has it, and leaves the
// zero value otherwise.
func optional[T any](d *decoder, field string, read func(string) T) T {
	var zero T
	if _, ok := d.r[field]; !ok {
		return zero
	}
	return read(field)
}

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func encodeSetup(s twofactor.Setup) []any {
	return []any{
		"id", s.ID,
		"secret", s.Secret,
		"alg", uint8(s.Algorithm),
		"digits", s.Digits,
		"period", s.Period,
		"expires", micros(s.ExpiresAt),
	}
}

func decodeSetup(userID string, r record) (twofactor.Setup, error) {
	d := decoder{r: r}
	s := twofactor.Setup{
		ID:        d.str("id"),
		UserID:    userID,
		Secret:    d.bytes("secret"),
		Algorithm: twofactor.Algorithm(d.uint8("alg")),
		Digits:    d.int("digits"),
		Period:    d.int("period"),
		ExpiresAt: d.time("expires"),
	}
	return s, d.err
}

func decodeEnrollment(userID string, r record) (twofactor.Enrollment, error) {
	d := decoder{r: r}
	e := twofactor.Enrollment{
		UserID:      userID,
		Secret:      d.bytes("secret"),
		Algorithm:   twofactor.Algorithm(d.uint8("alg")),
		Digits:      d.int("digits"),
		Period:      d.int("period"),
		LastStep:    d.int64("last_step"),
		ConfirmedAt: d.time("confirmed"),
	}
	return e, d.err
}

// decodeAccount reads an account, whose every field is optional: a field
// that no operation has written yet has its zero value.
func decodeAccount(r record) (twofactor.Account, error) {
	d := decoder{r: r}
	a := twofactor.Account{
		Failures:      optional(&d, "failures", d.int),
		Generation:    optional(&d, "generation", d.int64),
		UnlockedAt:    optional(&d, "unlocked", d.time),
		ResetRequired: optional(&d, "reset", d.bool),
	}
	return a, d.err
}

func encodeChallenge(c twofactor.Challenge) []any {
	return []any{
		"user", c.UserID,
		"role", uint8(c.Role),
		"state", uint8(c.State),
		"trust", boolString(c.TrustAllowed),
		"generation", c.Generation,
		"created", micros(c.CreatedAt),
		"deadline", micros(c.Deadline),
		"expires", micros(c.ExpiresAt),
	}
}

func decodeChallenge(id string, r record) (twofactor.Challenge, error) {
	d := decoder{r: r}
	c := twofactor.Challenge{
		ID:           id,
		UserID:       d.str("user"),
		Role:         twofactor.Role(d.uint8("role")),
		State:        twofactor.State(d.uint8("state")),
		TrustAllowed: d.bool("trust"),
		Generation:   d.int64("generation"),
		CreatedAt:    d.time("created"),
		Deadline:     d.time("deadline"),
		ExpiresAt:    d.time("expires"),
	}
	return c, d.err
}

func encodeBackupCode(c twofactor.BackupCode) []any {
	return []any{
		"hash", c.Hash,
		"issued_by", c.IssuedBy,
		"created", micros(c.CreatedAt),
		"expires", micros(c.ExpiresAt),
	}
}

func decodeBackupCode(userID string, r record) (twofactor.BackupCode, error) {
	d := decoder{r: r}
	c := twofactor.BackupCode{
		UserID:    userID,
		Hash:      d.bytes("hash"),
		IssuedBy:  d.str("issued_by"),
		CreatedAt: d.time("created"),
		ExpiresAt: d.time("expires"),
	}
	return c, d.err
}

func encodeDevice(dev twofactor.Device) []any {
	return []any{
		"id", dev.ID,
		"hash", dev.TokenHash,
		"label", dev.Label,
		"created", micros(dev.CreatedAt),
		"last_used", micros(dev.LastUsed),
		"expires", micros(dev.ExpiresAt),
	}
}

func decodeDevice(userID string, r record) (twofactor.Device, error) {
	d := decoder{r: r}
	dev := twofactor.Device{
		ID:        d.str("id"),
		UserID:    userID,
		TokenHash: d.bytes("hash"),
		Label:     d.str("label"),
		CreatedAt: d.time("created"),
		LastUsed:  d.time("last_used"),
		ExpiresAt: d.time("expires"),
	}
	return dev, d.err
}
