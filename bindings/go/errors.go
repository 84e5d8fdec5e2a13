package lsrec

import "fmt"

// Status is a status code of the C API (lsrec_status). Every non-OK Status is an error, so the
// constants below are sentinels for errors.Is:
//
//	if errors.Is(err, lsrec.ErrUnknownItem) { ... }
//
// Errors returned by this package are *Error values that wrap their Status; errors.As gives the
// library's message.
type Status int32

// The status codes of include/lsrec.h.
const (
	StatusOK           Status = 0
	ErrInvalidArgument Status = 1  // NULL pointer, k == 0, bad flag, negative time, closed model ...
	ErrIO              Status = 2  // a file could not be opened or read
	ErrFormat          Status = 3  // malformed weight file or state blob
	ErrVersion         Status = 4  // unsupported format or state version
	ErrChecksum        Status = 5  // a CRC32C does not match: the bytes were damaged
	ErrUnknownItem     Status = 6  // an item id the model does not know
	ErrBufferTooSmall  Status = 7  // (the bindings size buffers themselves)
	ErrModelMismatch   Status = 8  // a state or blob from another model
	ErrOutOfMemory     Status = 9  // out of memory
	ErrInternal        Status = 10 // a bug in lsrec; please report the message
	ErrBadMagic        Status = 11 // not an lsrec file / state blob
	ErrTruncated       Status = 12 // the file or blob ends early
	ErrByteOrder       Status = 13 // written on a big-endian machine
	ErrNonFinite       Status = 14 // NaN or Inf in the weights
	ErrOutOfOrder      Status = 15 // an event time earlier than the user's previous event
)

// Error makes a Status usable as an error (and as a target of errors.Is).
func (s Status) Error() string { return "lsrec: " + s.String() }

// Error is a failed call: the Status, the C function and the library's thread-local message
// (lsrec_last_error, read on the OS thread that made the call).
type Error struct {
	Status  Status
	Op      string // the C function, e.g. "lsrec_state_update"; "" for checks made in Go
	Message string // e.g. "lsrec_state_update: item id 5 is not in the model"
	closed  bool
}

func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return e.Op + ": " + e.Status.String()
}

// Unwrap returns the Status, so errors.Is(err, lsrec.ErrChecksum) works.
func (e *Error) Unwrap() error { return e.Status }

// Is reports the ErrClosed sentinel for uses of a closed Model or State.
func (e *Error) Is(target error) bool { return target == ErrClosed && e.closed }

// ErrClosed is matched (errors.Is) by the error for a call on a closed Model or State; that
// error also wraps ErrInvalidArgument.
var ErrClosed = &closedError{}

type closedError struct{}

func (*closedError) Error() string { return "lsrec: use of a closed model or state" }

func closedErr(what string) error {
	return &Error{Status: ErrInvalidArgument, Message: "lsrec: the " + what + " is closed", closed: true}
}

func invalid(format string, args ...interface{}) error {
	return &Error{Status: ErrInvalidArgument, Message: "lsrec: " + fmt.Sprintf(format, args...)}
}
