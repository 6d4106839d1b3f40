package otpcode

import (
	"crypto/sha512"
	"encoding"
	"encoding/binary"
	"hash"
	"sync"
)

const (
	maxBlockSize = sha512.BlockSize
	maxSize      = sha512.Size

	// stateCap is the initial capacity for a saved hash state. The
	// encodings of the standard library's SHA-1, SHA-256 and SHA-512 states
	// are 96, 108 and 204 bytes long in Go 1.26.
	stateCap = 256
)

// macState computes HMAC (RFC 2104) for one algorithm and is reused
// through macPools. After setKey it keeps the hash state that follows the
// ipad key block and the one that follows the opad key block. Restoring
// them saves two compression-function calls per message, so an 8-byte
// counter costs two calls: one inner and one outer.
type macState struct {
	alg       Algorithm
	h         hash.Hash
	blockSize int

	// appender and unmarshaler are h. They are nil when h cannot save
	// its state, and then each message rehashes the pad blocks.
	appender    encoding.BinaryAppender
	unmarshaler encoding.BinaryUnmarshaler

	ipad, opad   [maxBlockSize]byte
	inner, outer []byte
	sum          [maxSize]byte
	counter      [8]byte
}

var macPools = [...]sync.Pool{
	SHA1:   {New: func() any { return newMACState(SHA1) }},
	SHA256: {New: func() any { return newMACState(SHA256) }},
	SHA512: {New: func() any { return newMACState(SHA512) }},
}

func newMACState(alg Algorithm) *macState {
	h := alg.newHash()
	m := &macState{alg: alg, h: h, blockSize: h.BlockSize()}
	appender, ok1 := h.(encoding.BinaryAppender)
	unmarshaler, ok2 := h.(encoding.BinaryUnmarshaler)
	if ok1 && ok2 {
		m.appender, m.unmarshaler = appender, unmarshaler
		m.inner = make([]byte, 0, stateCap)
		m.outer = make([]byte, 0, stateCap)
	}
	return m
}

// getMAC returns a pooled macState for a valid algorithm. The caller must
// call release when done.
func getMAC(alg Algorithm) *macState {
	return macPools[alg].Get().(*macState)
}

// release erases the key material and returns m to its pool.
func (m *macState) release() {
	clear(m.ipad[:])
	clear(m.opad[:])
	clear(m.inner[:cap(m.inner)])
	clear(m.outer[:cap(m.outer)])
	clear(m.sum[:])
	m.h.Reset()
	macPools[m.alg].Put(m)
}

// setKey prepares the pad blocks for key and saves the hash states after
// them.
func (m *macState) setKey(key []byte) {
	if len(key) > m.blockSize {
		m.h.Reset()
		m.h.Write(key)
		key = m.h.Sum(m.sum[:0])
	}
	for i := range m.blockSize {
		var b byte
		if i < len(key) {
			b = key[i]
		}
		m.ipad[i] = b ^ 0x36
		m.opad[i] = b ^ 0x5c
	}
	if m.appender == nil {
		return
	}
	m.inner = m.saveAfter(m.ipad[:m.blockSize], m.inner)
	m.outer = m.saveAfter(m.opad[:m.blockSize], m.outer)
}

// saveAfter hashes block from the initial state and returns the resulting
// state, appended to dst[:0].
func (m *macState) saveAfter(block, dst []byte) []byte {
	m.h.Reset()
	m.h.Write(block)
	state, err := m.appender.AppendBinary(dst[:0])
	if err != nil {
		// The standard hashes fail only on a bad argument, never here.
		panic("twofactor: saving hash state failed: " + err.Error())
	}
	return state
}

// start puts h in the state after the pad block, restoring the saved
// state when there is one.
func (m *macState) start(pad []byte, saved []byte) {
	if m.unmarshaler == nil {
		m.h.Reset()
		m.h.Write(pad[:m.blockSize])
		return
	}
	if err := m.unmarshaler.UnmarshalBinary(saved); err != nil {
		// The state comes from AppendBinary on the same hash type.
		panic("twofactor: restoring hash state failed: " + err.Error())
	}
}

// sumCounter returns HMAC(key, counter) with the counter as 8 big-endian
// bytes. The result aliases m and is valid until the next call.
func (m *macState) sumCounter(counter uint64) []byte {
	binary.BigEndian.PutUint64(m.counter[:], counter)
	m.start(m.ipad[:], m.inner)
	m.h.Write(m.counter[:])
	innerSum := m.h.Sum(m.sum[:0])
	m.start(m.opad[:], m.outer)
	m.h.Write(innerSum)
	return m.h.Sum(m.sum[:0])
}
