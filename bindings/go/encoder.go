package lsrec

/*
#include <stdlib.h>
#include <lsrec.h>
*/
import "C"

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// Encoder is the library's sentence encoder (all-MiniLM-L6-v2, include/lsrec.h "Text encoder"):
// text in, a Dim()-float L2-normalised embedding out, so the dot product of two embeddings is
// their cosine similarity. It is immutable and safe for concurrent use by any number of
// goroutines. Close frees it early; a finalizer frees it otherwise.
//
//	enc, err := lsrec.LoadEncoder("build/encoder/minilm.lsrec") // from `lsrec convert-encoder`
//	v, err := enc.Encode("Toy Story (1995) Animation|Children's")
type Encoder struct {
	mu        sync.RWMutex // read-held by every call, write-held by Close
	ptr       *C.lsrec_encoder
	dim       int
	maxTokens int
}

// LoadEncoder reads an encoder .lsrec file (written by `lsrec convert-encoder`). A recommender
// model file gives an error matching ErrFormat.
func LoadEncoder(path string) (*Encoder, error) {
	if err := checkABI(); err != nil {
		return nil, err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var ptr *C.lsrec_encoder
	if err := call("lsrec_encoder_load", func() C.lsrec_status { return C.lsrec_encoder_load(cpath, &ptr) }); err != nil {
		return nil, err
	}
	e := &Encoder{ptr: ptr, dim: int(C.lsrec_encoder_dim(ptr)), maxTokens: int(C.lsrec_encoder_max_tokens(ptr))}
	runtime.SetFinalizer(e, (*Encoder).Close)
	return e, nil
}

// Close frees the encoder; later calls return an error matching ErrClosed. Close waits for calls
// in progress; closing twice is fine.
func (e *Encoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ptr != nil {
		C.lsrec_encoder_free(e.ptr)
		e.ptr = nil
		runtime.SetFinalizer(e, nil)
	}
	return nil
}

func (e *Encoder) use() (*C.lsrec_encoder, error) {
	e.mu.RLock()
	if e.ptr == nil {
		e.mu.RUnlock()
		return nil, closedErr("encoder")
	}
	return e.ptr, nil
}

// Dim is the embedding width (384 for MiniLM).
func (e *Encoder) Dim() int { return e.dim }

// MaxTokens is the token limit including [CLS] and [SEP] (128); longer texts are truncated.
func (e *Encoder) MaxTokens() int { return e.maxTokens }

// cText converts a Go string for the C API; a NUL byte would silently cut the text, so it is an
// error (as invalid UTF-8 is, in the library).
func cText(s, what string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, invalid("%s contains a NUL byte", what)
	}
	return C.CString(s), nil
}

// Tokenize returns the token ids the encoder sees for text: [CLS], the WordPiece ids, [SEP],
// truncated to MaxTokens.
func (e *Encoder) Tokenize(text string) ([]int32, error) {
	ids := make([]int32, e.maxTokens)
	var n C.size_t
	err := e.callText("lsrec_encoder_tokenize", text, func(ep *C.lsrec_encoder, ct *C.char) C.lsrec_status {
		return C.lsrec_encoder_tokenize(ep, ct, (*C.int32_t)(unsafe.Pointer(&ids[0])), C.size_t(len(ids)), &n)
	})
	if err != nil {
		return nil, err
	}
	return ids[:int(n)], nil
}

// Encode returns the L2-normalised embedding of text (Dim floats). "" is a valid text.
func (e *Encoder) Encode(text string) ([]float32, error) {
	out := make([]float32, e.dim)
	err := e.callText("lsrec_encode_text", text, func(ep *C.lsrec_encoder, ct *C.char) C.lsrec_status {
		return C.lsrec_encode_text(ep, ct, floatPtr(out), C.size_t(len(out)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// callText runs one C call on the read-locked encoder with text as a C string (freed after):
// a closed encoder gives ErrClosed, a NUL byte in text ErrInvalidArgument.
func (e *Encoder) callText(op, text string, f func(ep *C.lsrec_encoder, ct *C.char) C.lsrec_status) error {
	ep, err := e.use()
	if err != nil {
		return err
	}
	defer e.mu.RUnlock()
	ct, err := cText(text, "text")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ct))
	return call(op, func() C.lsrec_status { return f(ep, ct) })
}

// EncodeBatch embeds texts in one call (faster than one Encode per text): row i of the result
// is the embedding of texts[i]. Every text is checked before anything is computed.
func (e *Encoder) EncodeBatch(texts []string) ([][]float32, error) {
	ep, err := e.use()
	if err != nil {
		return nil, err
	}
	defer e.mu.RUnlock()
	if len(texts) == 0 {
		return [][]float32{}, nil
	}
	ptrSize := C.size_t(unsafe.Sizeof((*C.char)(nil)))
	arr := unsafe.Slice((**C.char)(C.malloc(C.size_t(len(texts))*ptrSize)), len(texts))
	defer func() {
		for _, p := range arr {
			C.free(unsafe.Pointer(p))
		}
		C.free(unsafe.Pointer(&arr[0]))
	}()
	for i := range arr {
		arr[i] = nil
	}
	for i, t := range texts {
		ct, err := cText(t, "texts["+strconv.Itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		arr[i] = ct
	}
	flat := make([]float32, len(texts)*e.dim)
	err = call("lsrec_encode_batch", func() C.lsrec_status {
		return C.lsrec_encode_batch(ep, (**C.char)(unsafe.Pointer(&arr[0])), C.size_t(len(texts)),
			floatPtr(flat), C.size_t(len(flat)))
	})
	if err != nil {
		return nil, err
	}
	rows := make([][]float32, len(texts))
	for i := range rows {
		rows[i] = flat[i*e.dim : (i+1)*e.dim : (i+1)*e.dim]
	}
	return rows, nil
}
