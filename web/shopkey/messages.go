package shopkey

import "strings"

// message names one text of the envelope or of a field error.
type message int

const (
	msgLoginOK message = iota
	msgLogoutOK
	msgMeOK
	msgRefreshOK
	msgInvalidCredentials
	msgNotVerified
	msgInvalidShop
	msgUnauthorized
	msgInvalidData
	msgTooManyAttempts
	msgNotFound
	msgMethodNotAllowed
	msgBadRequest
	msgTooLarge
	msgUnavailable
	msgServerError

	fieldRequired  // :attribute is replaced by the field name
	fieldEmail     // the e-mail address is malformed
	fieldString    // not a string, or not UTF-8
	fieldMaxLength // :max is replaced
	fieldRepeated  // given more than once in a form
	fieldCartToken // not 32 letters and digits
	messageCount   // keep last
)

// Locales with messages; any other shop locale answers in English.
const (
	localeES = "es"
	localeEN = "en"
)

// catalog holds the texts of docs/shopkey.md; the ones it leaves open
// (success texts other than the login's, 400/405/413/503/500, the token
// and length rules) follow Laravel's wording, as the seed's API is Laravel.
var catalog = map[string][messageCount]string{
	localeES: {
		msgLoginOK:            "Acceso autorizado",
		msgLogoutOK:           "Sesión cerrada",
		msgMeOK:               "Datos del cliente",
		msgRefreshOK:          "Token renovado",
		msgInvalidCredentials: "Email o contraseña incorrectos",
		msgNotVerified:        "Cuenta no verificada",
		msgInvalidShop:        "Tienda no válida",
		msgUnauthorized:       "No autorizado",
		msgInvalidData:        "Datos no válidos",
		msgTooManyAttempts:    "Demasiados intentos, inténtelo más tarde",
		msgNotFound:           "No encontrado",
		msgMethodNotAllowed:   "Método no permitido",
		msgBadRequest:         "Solicitud no válida",
		msgTooLarge:           "Solicitud demasiado grande",
		msgUnavailable:        "Servicio no disponible temporalmente, inténtelo más tarde",
		msgServerError:        "Error interno del servidor",
		fieldRequired:         "El campo :attribute es obligatorio.",
		fieldEmail:            "El campo :attribute debe ser una dirección de correo válida.",
		fieldString:           "El campo :attribute debe ser una cadena de caracteres.",
		fieldMaxLength:        "El campo :attribute no debe tener más de :max caracteres.",
		fieldRepeated:         "El campo :attribute no debe repetirse.",
		fieldCartToken:        "El campo :attribute debe tener 32 letras o dígitos.",
	},
	localeEN: {
		msgLoginOK:            "Access granted",
		msgLogoutOK:           "Logged out",
		msgMeOK:               "Customer data",
		msgRefreshOK:          "Token refreshed",
		msgInvalidCredentials: "Invalid email or password",
		msgNotVerified:        "Account not verified",
		msgInvalidShop:        "Invalid shop",
		msgUnauthorized:       "Unauthorized",
		msgInvalidData:        "Invalid data",
		msgTooManyAttempts:    "Too many attempts, try again later",
		msgNotFound:           "Not found",
		msgMethodNotAllowed:   "Method not allowed",
		msgBadRequest:         "Bad request",
		msgTooLarge:           "Request too large",
		msgUnavailable:        "Service temporarily unavailable, try again later",
		msgServerError:        "Internal server error",
		fieldRequired:         "The :attribute field is required.",
		fieldEmail:            "The :attribute must be a valid email address.",
		fieldString:           "The :attribute must be a string.",
		fieldMaxLength:        "The :attribute may not be greater than :max characters.",
		fieldRepeated:         "The :attribute field must not be repeated.",
		fieldCartToken:        "The :attribute must be 32 letters or digits.",
	},
}

// text returns message m in locale with its placeholders filled.
func text(locale string, m message, replacements ...string) string {
	s := catalog[locale][m]
	if len(replacements) > 0 {
		s = strings.NewReplacer(replacements...).Replace(s)
	}
	return s
}

// shopLocale maps a shop's locale ("es", "es_ES", "en-GB") to one with
// messages.
func shopLocale(locale string) string {
	if lang := primaryLanguage(locale); lang == localeES || lang == localeEN {
		return lang
	}
	return localeEN
}

// requestLocale picks the language of an answer that has no shop (an
// unknown shop key) from Accept-Language (RFC 9110 §12.5.4), in the
// header's order; q-values are not weighed, browsers list by preference.
func requestLocale(acceptLanguage string) string {
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, _, _ := strings.Cut(part, ";")
		if lang := primaryLanguage(tag); lang == localeES || lang == localeEN {
			return lang
		}
	}
	return localeEN
}

func primaryLanguage(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return tag
}
