package hosted

import (
	"net/http"
	"strings"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/refusal"
)

// messages are the pages' words, per language. Keys are identifiers so
// templates can write {{.T.sign_in}}.
var messages = map[string]map[string]string{
	"en": {
		"title_login":       "Sign in",
		"title_consent":     "Allow access",
		"title_error":       "Something went wrong",
		"title_logout":      "Sign out",
		"title_logged_out":  "Signed out",
		"sign_in_to":        "Sign in to continue to",
		"email":             "E-mail address",
		"password":          "Password",
		"sign_in":           "Sign in",
		"wants_access":      "wants to access your account at",
		"it_will":           "It will be able to:",
		"allow":             "Allow",
		"deny":              "Deny",
		"logout_question":   "Do you want to sign out?",
		"logout_yes":        "Sign out",
		"logged_out":        "You are signed out.",
		"err_credentials":   "The e-mail address or password is wrong.",
		"err_not_verified":  "Please confirm your e-mail address before you sign in.",
		"err_too_many":      "Too many attempts. Please wait a minute and try again.",
		"err_unavailable":   "We are very busy right now. Please try again in a moment.",
		"err_form_expired":  "The form expired. Please try again.",
		"err_bad_request":   "The request could not be read.",
		"err_too_large":     "The form is too large.",
		"err_server":        "We could not complete your request. Please try again later.",
		"try_again":         "Try again",
		"scope_openid":      "Confirm who you are",
		"scope_profile":     "See your name",
		"scope_email":       "See your e-mail address",
		"scope_offline":     "Stay connected while you are away",
		"scope_customer":    "Use your customer account (orders, carts, addresses)",
		"scope_other":       "Use the permission",
		"signed_in_as_hint": "Signing in with",
	},
	"es": {
		"title_login":       "Iniciar sesión",
		"title_consent":     "Permitir acceso",
		"title_error":       "Algo ha salido mal",
		"title_logout":      "Cerrar sesión",
		"title_logged_out":  "Sesión cerrada",
		"sign_in_to":        "Inicia sesión para continuar a",
		"email":             "Correo electrónico",
		"password":          "Contraseña",
		"sign_in":           "Iniciar sesión",
		"wants_access":      "quiere acceder a tu cuenta de",
		"it_will":           "Podrá:",
		"allow":             "Permitir",
		"deny":              "Denegar",
		"logout_question":   "¿Quieres cerrar la sesión?",
		"logout_yes":        "Cerrar sesión",
		"logged_out":        "Has cerrado la sesión.",
		"err_credentials":   "El correo electrónico o la contraseña no son correctos.",
		"err_not_verified":  "Confirma tu correo electrónico antes de iniciar sesión.",
		"err_too_many":      "Demasiados intentos. Espera un minuto y vuelve a intentarlo.",
		"err_unavailable":   "Ahora mismo hay mucha actividad. Vuelve a intentarlo en un momento.",
		"err_form_expired":  "El formulario ha caducado. Vuelve a intentarlo.",
		"err_bad_request":   "No se ha podido leer la solicitud.",
		"err_too_large":     "El formulario es demasiado grande.",
		"err_server":        "No hemos podido completar tu solicitud. Inténtalo más tarde.",
		"try_again":         "Volver a intentarlo",
		"scope_openid":      "Confirmar quién eres",
		"scope_profile":     "Ver tu nombre",
		"scope_email":       "Ver tu correo electrónico",
		"scope_offline":     "Mantener el acceso cuando no estés",
		"scope_customer":    "Usar tu cuenta de cliente (pedidos, carritos, direcciones)",
		"scope_other":       "Usar el permiso",
		"signed_in_as_hint": "Inicias sesión con",
	},
}

// language picks the page language from the shop's locale ("es", "es_ES",
// "es-MX" → es); everything else is English.
func language(locale string) string {
	l := strings.ToLower(locale)
	if l == "es" || strings.HasPrefix(l, "es_") || strings.HasPrefix(l, "es-") {
		return "es"
	}
	return "en"
}

// describeScope says in plain words what a scope lets the client do.
func describeScope(t map[string]string, scope string) string {
	switch scope {
	case server.ScopeOpenID:
		return t["scope_openid"]
	case server.ScopeProfile:
		return t["scope_profile"]
	case server.ScopeEmail:
		return t["scope_email"]
	case server.ScopeOfflineAccess:
		return t["scope_offline"]
	case "customer":
		return t["scope_customer"]
	}
	return t["scope_other"] + " “" + scope + "”"
}

// problemPage is the dialect's one table from the core's refusals to a
// page: its status and the message key. ok is false for faults.
func problemPage(r *refusal.Error) (status int, key string, ok bool) {
	switch r.Kind {
	case refusal.BadCredentials:
		return http.StatusBadRequest, "err_credentials", true
	case refusal.NotVerified:
		return http.StatusBadRequest, "err_not_verified", true
	case refusal.Throttled:
		return http.StatusTooManyRequests, "err_too_many", true
	case refusal.Unavailable:
		return http.StatusServiceUnavailable, "err_unavailable", true
	}
	return http.StatusInternalServerError, "err_server", false
}
