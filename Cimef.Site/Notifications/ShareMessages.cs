using System.Globalization;
using Cimef.Site.Data.Entities;
using MimeKit;

namespace Cimef.Site.Notifications;

/// <summary>
/// The messages to a referring doctor for a share the clinic created: the link and the code never travel on the same
/// channel (link by e-mail and code by SMS; with one contact, staff dictate the code by phone), so one intercepted
/// message opens nothing. The link message names neither the patient nor the exam: alone it tells nothing.
/// </summary>
public static class ShareMessages
{
    public const string LinkSubject = "Résultat d'examen partagé par le CIMEF";
    public const string CodeSubject = "Code d'accès au résultat partagé";

    public static MimeMessage Email(OutboxKind kind, string patientName, string link, string code, DateTime expiresAt,
        string from, string clinicName, string to)
    {
        var until = expiresAt.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture);
        var text = kind == OutboxKind.ShareLink
            ? $"""
               Bonjour Docteur,

               Le {clinicName} partage avec vous un résultat d'examen.
               Ouvrez ce lien (valable jusqu'au {until}) : {link}
               Le code à 6 chiffres vous est donné à part (par SMS ou par téléphone).
               """
            : $"""
               Bonjour Docteur,

               Code d'accès au résultat d'examen de {patientName} partagé par le {clinicName} : {code}
               Le lien vous parvient dans un message séparé.
               """;
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = kind == OutboxKind.ShareLink ? LinkSubject : CodeSubject;
        message.Body = new TextPart("plain") { Text = text };
        return message;
    }

    public static string Sms(OutboxKind kind, string patientName, string link, string code)
    {
        var text = kind == OutboxKind.ShareLink
            ? $"CIMEF: {link} resultat d'examen partage avec vous (code donne a part)"
            : $"CIMEF: code du resultat partage de {patientName}: {code}";
        text = SmsText.ToGsm7(text);
        return text.Length > SmsText.MaxLength ? text[..SmsText.MaxLength] : text;
    }
}
