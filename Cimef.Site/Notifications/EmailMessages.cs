using System.Text.Encodings.Web;
using System.Text.Unicode;
using MimeKit;

namespace Cimef.Site.Notifications;

/// <summary>The patient emails (French plain text + a small HTML version), in the spec's wording.</summary>
public static class EmailMessages
{
    public const string ResultsSubject = "Vos résultats d'examen sont disponibles";
    public const string CredentialsSubject = "Vos identifiants d'accès au portail patient";
    public const string PermanenceWarning = "Important : ce sont des identifiants permanents et réutilisables. Conservez-les précieusement : ils vous serviront pour tous vos prochains examens.";

    // Accented letters stay readable in the HTML part (the message is UTF-8); markup characters are encoded.
    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);

    public static MimeMessage Build(NotificationContent c, string from, string clinicName, string to)
    {
        var results = c.Kind == Data.Entities.OutboxKind.ReportAvailable;
        var intro = results
            ? "Vos résultats d'examen sont disponibles sur le portail patient" + (c.ReportTitle is null ? "." : $" : {c.ReportTitle}.")
            : "Votre accès au portail patient a été créé. Vous pourrez y consulter et télécharger vos résultats d'examen dès qu'ils seront disponibles.";

        var text = $"""
            Bonjour {c.PatientName},

            {intro}

            Adresse du portail : {c.PortalUrl}
            Clé d'accès : {c.GroupedKey}
            Mot de passe : {c.Password}

            {PermanenceWarning}

            Cordialement,
            {clinicName}
            """;

        static string H(string s) => Html.Encode(s);
        var html = $"""
            <!doctype html><html lang="fr"><body>
            <p>Bonjour {H(c.PatientName)},</p>
            <p>{H(intro)}</p>
            <p>Adresse du portail : <a href="{H(c.PortalUrl)}">{H(c.PortalUrl)}</a><br>
            Clé d'accès : <strong>{H(c.GroupedKey)}</strong><br>
            Mot de passe : <strong>{H(c.Password)}</strong></p>
            <p><strong>{H(PermanenceWarning)}</strong></p>
            <p>Cordialement,<br>{H(clinicName)}</p>
            </body></html>
            """;

        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(clinicName, from));
        message.To.Add(new MailboxAddress(c.PatientName, to));
        message.Subject = results ? ResultsSubject : CredentialsSubject;
        message.Body = new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody();
        return message;
    }
}
