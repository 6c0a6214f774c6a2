package spryker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server/accounts"
	"github.com/shopauth/shopauth/server/customertoken"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
)

// Routes of the customer account resources (docs/spryker-accounts.md).
const (
	PathCustomers               = "/customers"
	PathCustomerConfirmation    = "/customer-confirmation"
	PathForgottenPassword       = "/customer-forgotten-password"
	PathRestorePassword         = "/customer-restore-password"
	PathCustomerPassword        = "/customer-password"
	typeCustomers               = "customers"
	typeCustomerConfirmation    = "customer-confirmation"
	typeCustomerForgottenPasswd = "customer-forgotten-password"
	typeCustomerRestorePassword = "customer-restore-password"
	typeCustomerPassword        = "customer-password"
)

// Registrations creates and confirms accounts and reads them;
// *accounts.Service implements it.
type Registrations interface {
	Register(ctx context.Context, r accounts.Registration) (accounts.Account, error)
	Confirm(ctx context.Context, key, clientIP string) (accounts.Confirmed, error)
	Account(ctx context.Context, shopKey string, customerID uint64) (accounts.Account, error)
}

// Passwords resets and changes passwords; *accounts.Service implements it.
type Passwords interface {
	Forgot(ctx context.Context, shopKey, email, continueTo, clientIP string) error
	ResetPassword(ctx context.Context, r accounts.Reset) (accounts.Done, error)
	ChangePassword(ctx context.Context, ch accounts.Change) error
}

var (
	_ Registrations = (*accounts.Service)(nil)
	_ Passwords     = (*accounts.Service)(nil)
)

// Glue's customer error codes and details (docs/spryker-accounts.md).
const (
	codeCustomerExists       = "400"
	codeCustomerNotFound     = "402"
	codePasswordsDontMatch   = "406"
	codePasswordChangeFailed = "407"
	codeInvalidPassword      = "408"
	codeUnauthorized         = "411"
	codeRestoreKeyInvalid    = "415"
	codePasswordTooShort     = "418"
	codePasswordTooLong      = "419"
	codePasswordCommon       = "422"
	codeConfirmationInvalid  = "423"

	detailCustomerExists      = "If this email address is already in use, you will receive a password reset link. Otherwise you must first validate your e-mail address to finish registration. Please check your e-mail."
	detailCustomerNotFound    = "Customer not found."
	detailPasswordsDontMatch  = "Value in field %s should be identical to value in the %s field."
	detailPasswordChange      = "Failed to change password."
	detailInvalidPassword     = "Invalid password"
	detailUnauthorized        = "Unauthorized request."
	detailRestoreKeyInvalid   = "Restore password key is not valid."
	detailPasswordTooShort    = "The password is too short."
	detailPasswordTooLong     = "The password is too long."
	detailPasswordCommon      = "The password is listed as common."
	detailConfirmationInvalid = "This email confirmation code is invalid or has been already used."
	// Symfony validator messages, which Glue reports as 901.
	detailNotValid     = "This value is not valid."
	detailNotAChoice   = "The value you selected is not a valid choice."
	detailShouldBeTrue = "This value should be true."
	// No Spryker original; Glue's style.
	detailTooManyRequests = "Too many requests from your address. Please wait %d minutes before trying again."
)

// Attribute names of the account resources.
const (
	attrEmail              = "email"
	attrSalutation         = "salutation"
	attrFirstName          = "firstName"
	attrLastName           = "lastName"
	attrGender             = "gender"
	attrNewPassword        = "newPassword"
	attrConfirmPassword    = "confirmPassword"
	attrAcceptedTerms      = "acceptedTerms"
	attrRegistrationKey    = "registrationKey"
	attrRestorePasswordKey = "restorePasswordKey"
	// maxRegistrationKey is Glue's limit on registrationKey.
	maxRegistrationKey = 150
)

// accountRoutes are the account resources' routes; mounted only when the
// handler has the account services.
func (h *Handler) accountRoutes() []route {
	if h.registrations == nil || h.passwords == nil {
		return nil
	}
	return []route{
		{PathCustomers, map[string]gin.HandlerFunc{http.MethodPost: h.register, http.MethodGet: h.listCustomers}},
		{PathCustomers + "/:customerReference", map[string]gin.HandlerFunc{http.MethodGet: h.getCustomer}},
		{PathCustomerConfirmation, map[string]gin.HandlerFunc{http.MethodPost: h.confirmRegistration}},
		{PathForgottenPassword, map[string]gin.HandlerFunc{http.MethodPost: h.forgottenPassword}},
		{PathRestorePassword + "/:restorePasswordKey", map[string]gin.HandlerFunc{http.MethodPatch: h.restorePassword}},
		{PathCustomerPassword + "/:customerReference", map[string]gin.HandlerFunc{http.MethodPatch: h.changePassword}},
	}
}

// register is POST /customers.
func (h *Handler) register(c *gin.Context) {
	attrs, p := h.decodeRaw(c, typeCustomers)
	if p != nil {
		h.writeProblem(c, p, nil)
		return
	}
	s, p := stringAttributes(attrs, attrEmail, attrSalutation, attrFirstName, attrLastName, attrGender, attrPassword, attrConfirmPassword)
	if p != nil {
		h.writeProblem(c, p, nil)
		return
	}
	accepted, p := boolAttribute(attrs, attrAcceptedTerms)
	if p != nil {
		h.writeProblem(c, p, nil)
		return
	}
	acc, err := h.registrations.Register(c.Request.Context(), accounts.Registration{
		ShopKey: h.shopKey, Email: s[attrEmail], Salutation: s[attrSalutation], FirstName: s[attrFirstName],
		LastName: s[attrLastName], Gender: s[attrGender], Password: s[attrPassword], ConfirmPassword: s[attrConfirmPassword],
		AcceptedTerms: accepted, RequireProfile: true, ClientIP: c.ClientIP(),
	})
	if err != nil {
		h.writeAccountProblem(c, err, attrPassword)
		return
	}
	h.writeCustomer(c, http.StatusCreated, acc, false)
}

// listCustomers is GET /customers: the signed-in customer, as a collection.
func (h *Handler) listCustomers(c *gin.Context) {
	claims, ok := h.customerToken(c)
	if !ok {
		return
	}
	acc, ok := h.ownAccount(c, claims)
	if !ok {
		return
	}
	doc := struct {
		Data  []customerResource `json:"data"`
		Links selfLink           `json:"links"`
	}{Data: []customerResource{h.customerResource(acc, true)}, Links: selfLink{Self: h.selfBase + PathCustomers}}
	noStore(c)
	writeJSON(c, http.StatusOK, contentType, doc)
}

// getCustomer is GET /customers/{customerReference}: the signed-in
// customer's own resource. Another reference is "not found", as Glue
// answers, so nothing tells whether it exists.
func (h *Handler) getCustomer(c *gin.Context) {
	claims, ok := h.customerToken(c)
	if !ok {
		return
	}
	acc, ok := h.ownAccount(c, claims)
	if !ok {
		return
	}
	if ref := c.Param("customerReference"); ref == "" || ref != acc.Customer.CustomerReference {
		h.writeProblem(c, newProblem(http.StatusNotFound, codeCustomerNotFound, detailCustomerNotFound), nil)
		return
	}
	h.writeCustomer(c, http.StatusOK, acc, true)
}

// confirmRegistration is POST /customer-confirmation.
func (h *Handler) confirmRegistration(c *gin.Context) {
	attrs, p := h.decode(c, typeCustomerConfirmation, attrRegistrationKey)
	if p != nil {
		h.writeProblem(c, p, nil)
		return
	}
	key := attrs[attrRegistrationKey]
	switch {
	case key == "":
		h.writeProblem(c, &problem{errors: []apiError{validationError(attrRegistrationKey, detailNotBlank)}}, nil)
		return
	case len([]rune(key)) > maxRegistrationKey:
		h.writeProblem(c, &problem{errors: []apiError{validationError(attrRegistrationKey, tooLong(maxRegistrationKey))}}, nil)
		return
	}
	if _, err := h.registrations.Confirm(c.Request.Context(), key, c.ClientIP()); err != nil {
		if errors.Is(err, accounts.ErrInvalidKey) {
			h.writeProblem(c, newProblem(http.StatusUnprocessableEntity, codeConfirmationInvalid, detailConfirmationInvalid), nil)
			return
		}
		h.writeAccountProblem(c, err, "")
		return
	}
	c.Status(http.StatusNoContent)
}

// forgottenPassword is POST /customer-forgotten-password: 204 whether or
// not the shop has a customer with the address.
func (h *Handler) forgottenPassword(c *gin.Context) {
	attrs, p := h.decode(c, typeCustomerForgottenPasswd, attrEmail)
	if p != nil {
		h.writeProblem(c, p, nil)
		return
	}
	if err := h.passwords.Forgot(c.Request.Context(), h.shopKey, attrs[attrEmail], "", c.ClientIP()); err != nil {
		h.writeAccountProblem(c, err, "")
		return
	}
	c.Status(http.StatusNoContent)
}

// restorePassword is PATCH /customer-restore-password/{restorePasswordKey}.
// Glue reads the key from data.attributes.restorePasswordKey; the path's
// id may be anything.
func (h *Handler) restorePassword(c *gin.Context) {
	attrs, p := h.decode(c, typeCustomerRestorePassword, attrRestorePasswordKey, attrPassword, attrConfirmPassword)
	if p != nil {
		h.writeProblem(c, p, nil)
		return
	}
	if attrs[attrRestorePasswordKey] == "" {
		invalid := []apiError{validationError(attrRestorePasswordKey, detailNotBlank)}
		for _, f := range []string{attrPassword, attrConfirmPassword} {
			if attrs[f] == "" {
				invalid = append(invalid, validationError(f, detailNotBlank))
			}
		}
		h.writeProblem(c, &problem{errors: invalid}, nil)
		return
	}
	_, err := h.passwords.ResetPassword(c.Request.Context(), accounts.Reset{
		Key: attrs[attrRestorePasswordKey], Password: attrs[attrPassword], ConfirmPassword: attrs[attrConfirmPassword], ClientIP: c.ClientIP(),
	})
	if err != nil {
		if errors.Is(err, accounts.ErrInvalidKey) {
			h.writeProblem(c, newProblem(http.StatusUnprocessableEntity, codeRestoreKeyInvalid, detailRestoreKeyInvalid), nil)
			return
		}
		h.writeAccountProblem(c, err, attrPassword)
		return
	}
	c.Status(http.StatusNoContent)
}

// changePassword is PATCH /customer-password/{customerReference}: the
// signed-in customer changes their own password; the refresh family of the
// token used stays, every other one and every browser session ends.
func (h *Handler) changePassword(c *gin.Context) {
	claims, ok := h.customerToken(c)
	if !ok {
		return
	}
	acc, ok := h.ownAccount(c, claims)
	if !ok {
		return
	}
	if ref := c.Param("customerReference"); ref != acc.Customer.CustomerReference {
		h.writeProblem(c, newProblem(http.StatusForbidden, codeUnauthorized, detailUnauthorized), nil)
		return
	}
	attrs, p := h.decode(c, typeCustomerPassword, attrPassword, attrNewPassword, attrConfirmPassword)
	if p != nil {
		h.writeProblem(c, p, nil)
		return
	}
	err := h.passwords.ChangePassword(c.Request.Context(), accounts.Change{
		ShopKey: h.shopKey, CustomerID: acc.Customer.ID, CurrentPassword: attrs[attrPassword],
		NewPassword: attrs[attrNewPassword], ConfirmPassword: attrs[attrConfirmPassword],
		AccessJTI: claims.JTI, ClientIP: c.ClientIP(),
	})
	switch {
	case err == nil:
		c.Status(http.StatusNoContent)
	case errors.Is(err, accounts.ErrWrongPassword):
		h.writeProblem(c, newProblem(http.StatusBadRequest, codeInvalidPassword, detailInvalidPassword), nil)
	case errors.Is(err, accounts.ErrUnknownCustomer):
		h.writeProblem(c, newProblem(http.StatusNotFound, codeCustomerNotFound, detailCustomerNotFound), nil)
	default:
		h.writeAccountProblem(c, err, attrNewPassword)
	}
}

// customerToken checks the Bearer token of a protected route with the
// core's one check of customer-facing tokens (server/customertoken):
// signature, expiry, issuer, revocation, a customer of this dialect's
// shop, this dialect's client or one configured for it, and the customer
// scope. Anything else is as good as no token here: Glue's 401 001 (no
// header at all is its 403 002). On failure it has written the problem.
func (h *Handler) customerToken(c *gin.Context) (tokens.AccessClaims, bool) {
	raw, p := bearerToken(c.GetHeader("Authorization"))
	if p != nil {
		h.writeProblem(c, p, nil)
		return tokens.AccessClaims{}, false
	}
	claims, err := h.customerTokens.Check(c.Request.Context(), customertoken.Route{ClientID: h.clientID, Shop: h.shopKey}, raw)
	if err != nil {
		// A verifier fault (the revocation list unreachable) must not look
		// like a bad token to the caller, who would discard a good one.
		p, _ := problemOf(err, errInvalidToken)
		h.writeProblem(c, p, err)
		return tokens.AccessClaims{}, false
	}
	return claims, true
}

// ownAccount loads the token's customer; a customer gone since is Glue's
// 404 402.
func (h *Handler) ownAccount(c *gin.Context, claims tokens.AccessClaims) (accounts.Account, bool) {
	id, _ := claims.CustomerID()
	acc, err := h.registrations.Account(c.Request.Context(), h.shopKey, id)
	if errors.Is(err, accounts.ErrUnknownCustomer) {
		h.writeProblem(c, newProblem(http.StatusNotFound, codeCustomerNotFound, detailCustomerNotFound), nil)
		return accounts.Account{}, false
	}
	if err != nil {
		h.writeAccountProblem(c, err, "")
		return accounts.Account{}, false
	}
	return acc, true
}

// decodeRaw reads a JSON:API body of resourceType and returns its
// attributes undecoded.
func (h *Handler) decodeRaw(c *gin.Context, resourceType string) (map[string]json.RawMessage, *problem) {
	body, p := readBody(c.Request)
	if p != nil {
		return nil, p
	}
	return decodeResource(body, resourceType)
}

// writeAccountProblem answers an error of the account service in Glue's
// words. passwordField names the new password's attribute in the request
// ("password" or "newPassword"), for the 406 detail.
func (h *Handler) writeAccountProblem(c *gin.Context, err error, passwordField string) {
	var invalid *accounts.InvalidInput
	switch {
	case errors.As(err, &invalid):
		h.writeProblem(c, invalidInputProblem(invalid, passwordField), nil)
	case errors.Is(err, accounts.ErrEmailTaken):
		// Glue's answer, which tells that the address has an account
		// (docs/spryker-accounts.md); the owner got a mail.
		h.writeProblem(c, newProblem(http.StatusUnprocessableEntity, codeCustomerExists, detailCustomerExists), nil)
	case refusal.KindOf(err) == refusal.Throttled:
		retry := refusal.Of(err).RetryAfterSeconds()
		if retry <= 0 {
			retry = 60
		}
		p := newProblem(http.StatusTooManyRequests, "", fmtDetail(detailTooManyRequests, (retry+59)/60))
		p.retryAfter = retry
		h.writeProblem(c, p, nil)
	case refusal.KindOf(err) == refusal.Unavailable:
		p := newProblem(http.StatusServiceUnavailable, "", detailUnavailable)
		p.retryAfter = max(refusal.Of(err).RetryAfterSeconds(), 1)
		h.writeProblem(c, p, err)
	default:
		h.writeProblem(c, errServer, err)
	}
}

// invalidInputProblem reports refused fields as Glue's stages would: its
// request validation first (901 per field, in order), then the mismatch
// of the confirmation (406), then the customer module's password policy
// (418, 419, 422 at 400).
func invalidInputProblem(in *accounts.InvalidInput, passwordField string) *problem {
	var format []apiError
	var mismatch, policy *apiError
	for _, f := range in.Fields {
		field := string(f.Field)
		switch f.Problem {
		case accounts.Blank:
			format = append(format, validationError(field, detailNotBlank))
		case accounts.Invalid:
			if f.Field == accounts.FieldEmail {
				format = append(format, validationError(field, detailNotEmail))
			} else {
				format = append(format, validationError(field, detailNotValid))
			}
		case accounts.TooLong:
			if f.Field == accounts.FieldEmail {
				format = append(format, validationError(field, detailNotEmail))
			} else {
				format = append(format, validationError(field, tooLong(accounts.MaxNameChars)))
			}
		case accounts.NotAChoice:
			format = append(format, validationError(field, detailNotAChoice))
		case accounts.NotAccepted:
			format = append(format, validationError(field, detailShouldBeTrue))
		case accounts.Mismatch:
			if mismatch == nil {
				mismatch = &apiError{Code: codePasswordsDontMatch, Status: http.StatusUnprocessableEntity,
					Detail: fmtDetail(detailPasswordsDontMatch, passwordField, attrConfirmPassword)}
			}
		case accounts.PasswordTooShort:
			policy = &apiError{Code: codePasswordTooShort, Status: http.StatusBadRequest, Detail: detailPasswordTooShort}
		case accounts.PasswordTooLong:
			policy = &apiError{Code: codePasswordTooLong, Status: http.StatusBadRequest, Detail: detailPasswordTooLong}
		case accounts.PasswordCommon:
			policy = &apiError{Code: codePasswordCommon, Status: http.StatusBadRequest, Detail: detailPasswordCommon}
		}
	}
	switch {
	case len(format) > 0:
		return &problem{errors: format}
	case mismatch != nil:
		return &problem{errors: []apiError{*mismatch}}
	case policy != nil:
		return &problem{errors: []apiError{*policy}}
	}
	return newProblem(http.StatusBadRequest, codePasswordChangeFailed, detailPasswordChange)
}

func fmtDetail(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// tooLong is Symfony's Length message.
func tooLong(limit int) string {
	return "This value is too long. It should have " + strconv.Itoa(limit) + " characters or less."
}

// customerResource is Glue's customers resource.
type customerResource struct {
	Type       string             `json:"type"`
	ID         string             `json:"id"`
	Attributes customerAttributes `json:"attributes"`
	Links      selfLink           `json:"links"`
}

type customerAttributes struct {
	FirstName   string  `json:"firstName"`
	LastName    string  `json:"lastName"`
	Email       string  `json:"email,omitempty"`
	Gender      *string `json:"gender"`
	DateOfBirth *string `json:"dateOfBirth"`
	Salutation  *string `json:"salutation"`
	CreatedAt   string  `json:"createdAt"`
	UpdatedAt   string  `json:"updatedAt"`
}

type selfLink struct {
	Self string `json:"self"`
}

// glueTime is how Glue writes createdAt and updatedAt.
const glueTime = "2006-01-02 15:04:05.000000"

func (h *Handler) customerResource(acc accounts.Account, withEmail bool) customerResource {
	ref := acc.Customer.CustomerReference
	r := customerResource{
		Type: typeCustomers, ID: ref,
		Attributes: customerAttributes{
			FirstName: acc.Profile.FirstName, LastName: acc.Profile.LastName,
			Gender: nullable(acc.Profile.Gender), Salutation: nullable(acc.Profile.Salutation),
			CreatedAt: acc.Customer.CreatedAt.UTC().Format(glueTime), UpdatedAt: acc.Customer.UpdatedAt.UTC().Format(glueTime),
		},
		Links: selfLink{Self: h.selfBase + PathCustomers + "/" + ref},
	}
	if withEmail {
		r.Attributes.Email = acc.Customer.Email
	}
	return r
}

// writeCustomer answers with one customers resource. Glue's registration
// answer has no e-mail; the customer's own read has it.
func (h *Handler) writeCustomer(c *gin.Context, status int, acc accounts.Account, withEmail bool) {
	noStore(c)
	writeJSON(c, status, contentType, struct {
		Data customerResource `json:"data"`
	}{h.customerResource(acc, withEmail)})
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
