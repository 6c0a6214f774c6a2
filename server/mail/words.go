package mail

// words are the mails' words per language and kind; "{shop}" stands for
// the shop's name. "valid" holds how a link's lifetime is said.
var words = map[string]map[string]map[string]string{
	"en": {
		KindConfirmEmail: {
			"subject":   "Confirm your e-mail address for {shop}",
			"greeting":  "Hello",
			"intro":     "You created an account at {shop}. Please confirm your e-mail address with this link:",
			"button":    "Confirm my e-mail address",
			"copy_link": "If the button does not work, copy this link into your browser:",
			"ignore":    "If you did not create an account, ignore this mail: nothing happens without the link.",
		},
		KindResetPassword: {
			"subject":   "Set a new password for {shop}",
			"greeting":  "Hello",
			"intro":     "Someone asked to set a new password for your account at {shop}. If it was you, use this link:",
			"button":    "Set a new password",
			"copy_link": "If the button does not work, copy this link into your browser:",
			"ignore":    "If you did not ask for it, ignore this mail: your password stays as it is.",
		},
		KindAlreadyRegistered: {
			"subject":   "You already have an account at {shop}",
			"greeting":  "Hello",
			"intro":     "Someone tried to create an account at {shop} with this e-mail address, which already has one. You can sign in with your password, or set a new one here:",
			"button":    "Set a new password",
			"copy_link": "If the button does not work, copy this link into your browser:",
			"ignore":    "If it was not you, ignore this mail: nothing has changed.",
		},
		"valid": {"text": "The link works for %d %s.", "minute": "minute", "minutes": "minutes", "hour": "hour", "hours": "hours"},
	},
	"es": {
		KindConfirmEmail: {
			"subject":   "Confirma tu correo electrónico para {shop}",
			"greeting":  "Hola",
			"intro":     "Has creado una cuenta en {shop}. Confirma tu correo electrónico con este enlace:",
			"button":    "Confirmar mi correo electrónico",
			"copy_link": "Si el botón no funciona, copia este enlace en tu navegador:",
			"ignore":    "Si no has creado ninguna cuenta, ignora este correo: sin el enlace no pasa nada.",
		},
		KindResetPassword: {
			"subject":   "Elige una contraseña nueva para {shop}",
			"greeting":  "Hola",
			"intro":     "Alguien ha pedido una contraseña nueva para tu cuenta de {shop}. Si has sido tú, usa este enlace:",
			"button":    "Elegir una contraseña nueva",
			"copy_link": "Si el botón no funciona, copia este enlace en tu navegador:",
			"ignore":    "Si no lo has pedido, ignora este correo: tu contraseña no cambia.",
		},
		KindAlreadyRegistered: {
			"subject":   "Ya tienes una cuenta en {shop}",
			"greeting":  "Hola",
			"intro":     "Alguien ha intentado crear una cuenta en {shop} con este correo electrónico, que ya tiene una. Puedes iniciar sesión con tu contraseña o elegir una nueva aquí:",
			"button":    "Elegir una contraseña nueva",
			"copy_link": "Si el botón no funciona, copia este enlace en tu navegador:",
			"ignore":    "Si no has sido tú, ignora este correo: no ha cambiado nada.",
		},
		"valid": {"text": "El enlace funciona durante %d %s.", "minute": "minuto", "minutes": "minutos", "hour": "hora", "hours": "horas"},
	},
}
