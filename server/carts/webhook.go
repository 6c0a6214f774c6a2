package carts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// WebhookTimeout bounds one hand-over call: a login waits for it.
const WebhookTimeout = 2 * time.Second

// maxWebhookAnswer bounds the cart document a back end may answer.
const maxWebhookAnswer = 1 << 20

// Webhook hands carts over through a commerce back end: a POST of
// {"shop","customer_id","cart_token"} whose JSON answer is the customer's
// cart (an object, or null for none).
type Webhook struct {
	url     string
	timeout time.Duration
	client  *http.Client
}

var _ HandOver = (*Webhook)(nil)

// NewWebhook returns a Webhook posting to rawURL that gives up after
// timeout (0 means WebhookTimeout). Redirects are never followed: they
// would turn the POST into a GET.
func NewWebhook(rawURL string, timeout time.Duration) (*Webhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("carts: the webhook needs an absolute http(s) URL")
	}
	if timeout <= 0 {
		timeout = WebhookTimeout
	}
	client := &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Webhook{url: rawURL, timeout: timeout, client: client}, nil
}

// webhookRequest is the body posted to the back end. cart_token is null
// when the storefront sent none.
type webhookRequest struct {
	Shop       string  `json:"shop"`
	CustomerID uint64  `json:"customer_id"`
	CartToken  *string `json:"cart_token"`
}

// HandOver posts the hand-over and returns the back end's cart document.
func (w *Webhook) HandOver(ctx context.Context, req Request) (*Cart, error) {
	body := webhookRequest{Shop: req.ShopKey, CustomerID: req.CustomerID}
	if req.Token != "" {
		body.CartToken = &req.Token
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	resp, err := w.client.Do(hr)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL is configuration, not news; keep logs short
		}
		return nil, fmt.Errorf("cart webhook: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("cart webhook: status %d", resp.StatusCode)
	}
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxWebhookAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("cart webhook: read answer: %w", err)
	}
	if len(answer) > maxWebhookAnswer {
		return nil, fmt.Errorf("cart webhook: answer larger than %d bytes", maxWebhookAnswer)
	}
	return parseAnswer(answer)
}

// parseAnswer accepts a JSON object (the cart) or null (no cart).
func parseAnswer(answer []byte) (*Cart, error) {
	answer = bytes.TrimSpace(answer)
	if !json.Valid(answer) {
		return nil, errors.New("cart webhook: answer is not JSON")
	}
	switch {
	case bytes.Equal(answer, []byte("null")):
		return nil, nil
	case answer[0] == '{':
		var compact bytes.Buffer
		if err := json.Compact(&compact, answer); err != nil {
			return nil, fmt.Errorf("cart webhook: %w", err)
		}
		return &Cart{Document: compact.Bytes()}, nil
	}
	return nil, errors.New("cart webhook: answer is neither a cart object nor null")
}
