using System.Text.Encodings.Web;
using System.Text.Unicode;
using Cimef.Site.Languages;
using MimeKit;

namespace Cimef.Site.Notifications;

/// <summary>
/// The patient e-mails (plain text + a small HTML version) in the patient's language, from the patient catalogue
/// (<c>notify_*</c> entries). They name neither the exam nor the result.
/// </summary>
public static class EmailMessages
{
    /// <summary>The French subjects (tests and the staff side compare against them).</summary>
    public static string ResultsSubject => PatientText.Get("notify_results_subject", PatientLanguages.Culture(PatientLanguages.French));
    public static string CredentialsSubject => PatientText.Get("notify_credentials_subject", PatientLanguages.Culture(PatientLanguages.French));

    // Accented letters stay readable in the HTML part (the message is UTF-8); markup characters are encoded.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    public static MimeMessage Build(NotificationContent c, string from, string clinicName, string to)
    {
        var results = c.Kind == Data.Entities.OutboxKind.ReportAvailable;
        var intro = c.Text(results ? "notify_results_intro" : "notify_credentials_intro");
        var permanence = c.Text("notify_permanence");

        var text = $"""
            {c.Text("notify_hello", c.PatientName)}

            {intro}

            {c.Text("notify_portal_address", c.PortalUrl)}
            {c.Text("notify_key", c.GroupedKey)}
            {c.Text("notify_password", c.Password)}

            {permanence}

            {c.Text("notify_regards")}
            {clinicName}
            """;

        static string H(string s) => Encoder.Encode(s);
        // A catalogue line whose {0} is markup: the line is encoded first, then the (already encoded) markup goes in.
        string Html(string name, string markup) =>
            string.Format(System.Globalization.CultureInfo.InvariantCulture, H(PatientText.Get(name, c.Culture)), markup);
        var html = $"""
            <!doctype html><html lang="{PatientLanguages.Normalize(c.Language) ?? PatientLanguages.French}"><body>
            <p>{H(c.Text("notify_hello", c.PatientName))}</p>
            <p>{H(intro)}</p>
            <p>{Html("notify_portal_address", $"<a href=\"{H(c.PortalUrl)}\">{H(c.PortalUrl)}</a>")}<br>
            {Html("notify_key", $"<strong>{H(c.GroupedKey)}</strong>")}<br>
            {Html("notify_password", $"<strong>{H(c.Password)}</strong>")}</p>
            <p><strong>{H(permanence)}</strong></p>
            <p>{H(c.Text("notify_regards"))}<br>{H(clinicName)}</p>
            </body></html>
            """;

        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(clinicName, from));
        message.To.Add(new MailboxAddress(c.PatientName, to));
        message.Subject = c.Text(results ? "notify_results_subject" : "notify_credentials_subject");
        message.Body = new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody();
        return message;
    }
}
