using System.Globalization;
using Cimef.Site.Languages;
using MimeKit;

namespace Cimef.Site.Notifications;

/// <summary>
/// The messages of « Clé ou mot de passe perdu ? » (<see cref="Portal.PatientRecovery"/>), in the patient's language: the
/// code (only the code, its lifetime and the portal's address — never a name, a key or a result) and the notice that a
/// password was renewed from a phone, sent on the channel the code did not take.
/// </summary>
public static class RecoveryMessages
{
    public static string CodeSms(CultureInfo culture, string code, int minutes, string portalUrl)
    {
        var text = SmsText.ToGsm7(PatientText.Format(culture, "sms_recovery_code", code, minutes) + " " + portalUrl);
        return text.Length <= SmsText.MaxLength ? text : SmsText.ToGsm7(PatientText.Format(culture, "sms_recovery_code", code, minutes));
    }

    public static string NoticeSms(CultureInfo culture, string keySuffix, string clinicPhone)
    {
        var text = SmsText.ToGsm7(PatientText.Format(culture, "sms_recovery_notice", keySuffix, clinicPhone));
        return text.Length > SmsText.MaxLength ? text[..SmsText.MaxLength] : text;
    }

    public static MimeMessage CodeEmail(CultureInfo culture, string code, int minutes, string portalUrl, string from, string clinicName, string to)
    {
        string Say(string name, params object?[] args) => PatientText.Format(culture, name, args);
        return Build(from, clinicName, to, Say("notify_recovery_code_subject"), $"""
            {Say("notify_recovery_code_intro", code)}
            {Say("notify_recovery_code_expiry", minutes)}

            {Say("notify_portal_address", portalUrl)}

            {Say("notify_recovery_code_ignore")}

            {Say("notify_regards")}
            {clinicName}
            """);
    }

    public static MimeMessage NoticeEmail(CultureInfo culture, string patientName, string keySuffix, string clinicPhone,
        string from, string clinicName, string to)
    {
        string Say(string name, params object?[] args) => PatientText.Format(culture, name, args);
        return Build(from, clinicName, to, Say("notify_recovery_notice_subject"), $"""
            {Say("notify_hello", patientName)}

            {Say("notify_recovery_notice_intro", keySuffix)}
            {Say("notify_recovery_notice_unknown", clinicPhone)}

            {Say("notify_regards")}
            {clinicName}
            """);
    }

    private static MimeMessage Build(string from, string clinicName, string to, string subject, string text)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(clinicName, from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = text };
        return message;
    }
}
