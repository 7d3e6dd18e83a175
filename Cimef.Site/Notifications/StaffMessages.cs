using MimeKit;

namespace Cimef.Site.Notifications;

/// <summary>E-mails to staff members (French, as the whole staff side).</summary>
public static class StaffMessages
{
    public const string LockoutSubject = "Votre compte du personnel a été verrouillé";

    /// <summary>
    /// Failed sign-ins locked the account: the owner learns it even when the attempts were not theirs. It says nothing
    /// an attacker could use (no password, no address the attempts came from).
    /// </summary>
    public static MimeMessage Lockout(string to, DateTime atUtc, string from, string clinicName)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(clinicName, from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = LockoutSubject;
        message.Body = new TextPart("plain")
        {
            Text = $"""
                Bonjour,

                Votre compte du personnel ({to}) vient d'être verrouillé pendant quelques minutes après plusieurs
                tentatives de connexion avec un mauvais mot de passe ({atUtc:dd/MM/yyyy HH:mm} UTC).

                Si c'était vous, attendez quelques minutes avant de réessayer. Depuis un appareil sur lequel vous vous
                êtes déjà connecté, la connexion reste possible.

                Si ce n'était pas vous, quelqu'un essaie peut-être de deviner votre mot de passe : prévenez
                l'administrateur du portail et changez votre mot de passe.

                {clinicName}
                """,
        };
        return message;
    }
}
