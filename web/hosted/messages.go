package hosted

import (
	"strings"

	"github.com/shopauth/shopauth/server"
)

// messages are the pages' words, per language. Keys are identifiers so
// templates can write {{.T.sign_in}}.
var messages = map[string]map[string]string{
	"en": {
		"title_login":           "Sign in",
		"title_consent":         "Allow access",
		"title_error":           "Something went wrong",
		"title_logout":          "Sign out",
		"title_logged_out":      "Signed out",
		"sign_in_to":            "Sign in to continue to",
		"email":                 "E-mail address",
		"password":              "Password",
		"sign_in":               "Sign in",
		"wants_access":          "wants to access your account at",
		"it_will":               "It will be able to:",
		"allow":                 "Allow",
		"deny":                  "Deny",
		"logout_question":       "Do you want to sign out?",
		"logout_yes":            "Sign out",
		"logged_out":            "You are signed out.",
		"err_credentials":       "The e-mail address or password is wrong.",
		"err_not_verified":      "Please confirm your e-mail address before you sign in.",
		"err_too_many":          "Too many attempts. Please wait a minute and try again.",
		"err_unavailable":       "We are very busy right now. Please try again in a moment.",
		"err_form_expired":      "The form expired. Please try again.",
		"err_bad_request":       "The request could not be read.",
		"err_too_large":         "The form is too large.",
		"err_server":            "We could not complete your request. Please try again later.",
		"try_again":             "Try again",
		"scope_openid":          "Confirm who you are",
		"scope_profile":         "See your name",
		"scope_email":           "See your e-mail address",
		"scope_offline":         "Stay connected while you are away",
		"scope_customer":        "Use your customer account (orders, carts, addresses)",
		"scope_other":           "Use the permission",
		"signed_in_as_hint":     "Signing in with",
		"title_register":        "Create account",
		"title_forgot":          "Forgot your password?",
		"title_reset":           "Set a new password",
		"title_confirm":         "Confirm your e-mail address",
		"title_password":        "Change password",
		"title_check_mail":      "Check your e-mail",
		"title_done":            "Done",
		"first_name":            "First name",
		"last_name":             "Last name",
		"confirm_password":      "Repeat the password",
		"new_password":          "New password",
		"current_password":      "Current password",
		"password_hint":         "At least 8 characters. Avoid common passwords.",
		"accept_terms":          "I accept the shop's terms of service.",
		"create_account":        "Create account",
		"have_account":          "I already have an account",
		"forgot_password":       "Forgot password?",
		"forgot_intro":          "Enter your e-mail address and we will send you a link to set a new password.",
		"send_link":             "Send the link",
		"back_to_login":         "Back to sign in",
		"set_password":          "Set the new password",
		"confirm_intro":         "Confirm your e-mail address to finish creating your account.",
		"confirm_button":        "Confirm my e-mail address",
		"change_password":       "Change password",
		"signed_in_as":          "Signed in as",
		"continue":              "Continue",
		"notice_registered":     "We sent a mail to %s. Open the link in it to finish creating your account (if the address already has an account, the mail says so).",
		"notice_forgot":         "If an account uses %s, we sent it a link to set a new password. The link works for a limited time.",
		"notice_confirmed":      "Your e-mail address is confirmed. You can sign in now.",
		"notice_reset":          "Your new password is set. You can sign in with it now; every other sign-in has ended.",
		"notice_changed":        "Your password is changed. You stay signed in here; every other sign-in has ended.",
		"err_fields":            "Please correct the marked fields.",
		"err_link":              "This link is not valid any more: it was used already, a newer one was sent, or it expired. Ask for a new one.",
		"err_not_signed_in":     "Please sign in to your shop first, then come back to change your password.",
		"err_too_many_requests": "Too many requests from your address. Please wait a few minutes and try again.",
		"err_wrong_password":    "The current password is wrong.",
		"err_unknown_shop":      "This shop is not known.",
		"field_blank":           "Please fill this in.",
		"field_invalid":         "This is not valid here (no < or > and no control characters).",
		"field_not_email":       "This is not an e-mail address.",
		"field_too_long":        "This is too long.",
		"field_mismatch":        "The two passwords differ.",
		"field_too_short":       "At least 8 characters, please.",
		"field_password_long":   "At most 1,024 bytes, please.",
		"field_common":          "This password is too common: it is on a list attackers try first.",
		"field_terms":           "Please accept the terms of service to create an account.",
	},
	"es": {
		"title_login":           "Iniciar sesión",
		"title_consent":         "Permitir acceso",
		"title_error":           "Algo ha salido mal",
		"title_logout":          "Cerrar sesión",
		"title_logged_out":      "Sesión cerrada",
		"sign_in_to":            "Inicia sesión para continuar a",
		"email":                 "Correo electrónico",
		"password":              "Contraseña",
		"sign_in":               "Iniciar sesión",
		"wants_access":          "quiere acceder a tu cuenta de",
		"it_will":               "Podrá:",
		"allow":                 "Permitir",
		"deny":                  "Denegar",
		"logout_question":       "¿Quieres cerrar la sesión?",
		"logout_yes":            "Cerrar sesión",
		"logged_out":            "Has cerrado la sesión.",
		"err_credentials":       "El correo electrónico o la contraseña no son correctos.",
		"err_not_verified":      "Confirma tu correo electrónico antes de iniciar sesión.",
		"err_too_many":          "Demasiados intentos. Espera un minuto y vuelve a intentarlo.",
		"err_unavailable":       "Ahora mismo hay mucha actividad. Vuelve a intentarlo en un momento.",
		"err_form_expired":      "El formulario ha caducado. Vuelve a intentarlo.",
		"err_bad_request":       "No se ha podido leer la solicitud.",
		"err_too_large":         "El formulario es demasiado grande.",
		"err_server":            "No hemos podido completar tu solicitud. Inténtalo más tarde.",
		"try_again":             "Volver a intentarlo",
		"scope_openid":          "Confirmar quién eres",
		"scope_profile":         "Ver tu nombre",
		"scope_email":           "Ver tu correo electrónico",
		"scope_offline":         "Mantener el acceso cuando no estés",
		"scope_customer":        "Usar tu cuenta de cliente (pedidos, carritos, direcciones)",
		"scope_other":           "Usar el permiso",
		"signed_in_as_hint":     "Inicias sesión con",
		"title_register":        "Crear una cuenta",
		"title_forgot":          "¿Has olvidado tu contraseña?",
		"title_reset":           "Elige una contraseña nueva",
		"title_confirm":         "Confirma tu correo electrónico",
		"title_password":        "Cambiar la contraseña",
		"title_check_mail":      "Revisa tu correo",
		"title_done":            "Hecho",
		"first_name":            "Nombre",
		"last_name":             "Apellidos",
		"confirm_password":      "Repite la contraseña",
		"new_password":          "Contraseña nueva",
		"current_password":      "Contraseña actual",
		"password_hint":         "Al menos 8 caracteres. Evita las contraseñas habituales.",
		"accept_terms":          "Acepto las condiciones de la tienda.",
		"create_account":        "Crear una cuenta",
		"have_account":          "Ya tengo una cuenta",
		"forgot_password":       "¿Has olvidado la contraseña?",
		"forgot_intro":          "Escribe tu correo electrónico y te enviaremos un enlace para elegir una contraseña nueva.",
		"send_link":             "Enviar el enlace",
		"back_to_login":         "Volver a iniciar sesión",
		"set_password":          "Guardar la contraseña nueva",
		"confirm_intro":         "Confirma tu correo electrónico para terminar de crear tu cuenta.",
		"confirm_button":        "Confirmar mi correo electrónico",
		"change_password":       "Cambiar la contraseña",
		"signed_in_as":          "Has iniciado sesión como",
		"continue":              "Continuar",
		"notice_registered":     "Hemos enviado un correo a %s. Abre el enlace que contiene para terminar de crear tu cuenta (si la dirección ya tiene una cuenta, el correo lo dice).",
		"notice_forgot":         "Si alguna cuenta usa %s, le hemos enviado un enlace para elegir una contraseña nueva. El enlace funciona durante un tiempo limitado.",
		"notice_confirmed":      "Tu correo electrónico está confirmado. Ya puedes iniciar sesión.",
		"notice_reset":          "Tu contraseña nueva está guardada. Ya puedes iniciar sesión con ella; las demás sesiones se han cerrado.",
		"notice_changed":        "Tu contraseña ha cambiado. Sigues con la sesión iniciada aquí; las demás sesiones se han cerrado.",
		"err_fields":            "Corrige los campos marcados.",
		"err_link":              "Este enlace ya no es válido: ya se usó, se envió uno más nuevo o ha caducado. Pide otro.",
		"err_not_signed_in":     "Inicia sesión en tu tienda primero y vuelve después para cambiar la contraseña.",
		"err_too_many_requests": "Demasiadas solicitudes desde tu dirección. Espera unos minutos y vuelve a intentarlo.",
		"err_wrong_password":    "La contraseña actual no es correcta.",
		"err_unknown_shop":      "No conocemos esta tienda.",
		"field_blank":           "Rellena este campo.",
		"field_invalid":         "Esto no es válido aquí (sin < ni > y sin caracteres de control).",
		"field_not_email":       "Esto no es un correo electrónico.",
		"field_too_long":        "Es demasiado largo.",
		"field_mismatch":        "Las dos contraseñas no coinciden.",
		"field_too_short":       "Al menos 8 caracteres, por favor.",
		"field_password_long":   "Como mucho 1024 bytes, por favor.",
		"field_common":          "Esta contraseña es demasiado habitual: está en una lista que los atacantes prueban primero.",
		"field_terms":           "Acepta las condiciones para crear una cuenta.",
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

func loginProblemMessage(t map[string]string, p server.LoginProblem) string {
	switch p {
	case server.LoginInvalidCredentials:
		return t["err_credentials"]
	case server.LoginNotVerified:
		return t["err_not_verified"]
	case server.LoginTooManyAttempts:
		return t["err_too_many"]
	case server.LoginUnavailable:
		return t["err_unavailable"]
	}
	return ""
}
