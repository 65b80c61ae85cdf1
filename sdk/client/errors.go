package client

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an error response from the API.
type Error struct {
	Status  int    // HTTP status code
	Code    string // one of the Code constants, or "" if the body was not an API error
	Message string
}

func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.Status)
	}
	return fmt.Sprintf("client: api: %d %s: %s", e.Status, code, e.Message)
}

// StatusOf returns the HTTP status of the *Error in err's chain, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}
