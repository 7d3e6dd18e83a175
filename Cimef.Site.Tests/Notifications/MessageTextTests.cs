using Cimef.Site.Data.Entities;
using Cimef.Site.Notifications;
using MailKit.Security;

namespace Cimef.Site.Tests.Notifications;

public class MessageTextTests
{
    private static NotificationContent Content(string url, string? language = null, OutboxKind kind = OutboxKind.ReportAvailable) =>
        new(kind, "Ndèye Fatou Ndiaye", url, "ABCDEFGHJKMN", "abcd2345", language);

    [Theory]
    [InlineData("https://portail.cimef.sn/patient", false, null)]
    [InlineData("https://portail.cimef.sn/patient", true, null)]
    [InlineData("https://portail.cimef.sn/patient", false, "wo")]
    [InlineData("https://portail.cimef.sn/patient", true, "wo")]
    [InlineData("https://portail.cimef.sn/patient", true, "en")]
    [InlineData("https://un-domaine-vraiment-tres-long-pour-un-portail.cimef-imagerie-medicale.sn/acces/patient/resultats", true, null)]
    [InlineData("https://un-domaine-vraiment-tres-long-pour-un-portail.cimef-imagerie-medicale.sn/acces/patient/resultats", true, "wo")]
    public void The_sms_fits_one_gsm7_segment_and_keeps_the_url_and_key(string url, bool includePassword, string? language)
    {
        var text = SmsText.Build(Content(url, language), includePassword);
        Assert.True(text.Length <= SmsText.MaxLength, text);
        Assert.True(SmsText.IsGsm7(text), text);
        Assert.Contains(url, text);
        Assert.Contains("ABCD EFGH JKMN", text);
        Assert.Equal(includePassword, text.Contains("abcd2345"));
    }

    [Theory]
    [InlineData(null, "CIMEF: vos résultats sont disponibles sur https://x.sn", "Vos résultats CIMEF sont disponibles")]
    [InlineData("wo", "CIMEF: sa njureef jot na ci https://x.sn", "Sa njureef CIMEF jot na")]
    [InlineData("en", "CIMEF: your results are available at https://x.sn", "Your CIMEF results are available")]
    public void Messages_go_out_in_the_patients_language(string? language, string smsStart, string subject)
    {
        var c = Content("https://x.sn", language);
        Assert.StartsWith(SmsText.ToGsm7(smsStart), SmsText.Build(c, includePassword: true));
        var email = EmailMessages.Build(c, "portail@cimef.sn", "CIMEF", "fatou@example.sn");
        Assert.Equal(subject, email.Subject);
        Assert.Contains(subject, email.TextBody);
        Assert.Contains($"<html lang=\"{language ?? "fr"}\">", email.HtmlBody);
    }

    [Fact]
    public void Accents_outside_gsm7_are_folded_and_gsm7_ones_kept() => Assert.Equal("Ndeye à l'école", SmsText.ToGsm7("Ndêye à l'écôle"));

    [Theory]
    [InlineData("None", SecureSocketOptions.None)]
    [InlineData("StartTls", SecureSocketOptions.StartTls)]
    [InlineData("StartTlsWhenAvailable", SecureSocketOptions.StartTlsWhenAvailable)]
    [InlineData("SslOnConnect", SecureSocketOptions.SslOnConnect)]
    [InlineData("Auto", SecureSocketOptions.Auto)]
    public void Smtp_security_modes_map_to_mailkit(string mode, SecureSocketOptions expected) =>
        Assert.Equal(expected, EmailSender.SecurityOf(mode));

    [Fact]
    public void Error_texts_never_carry_the_key_or_the_password()
    {
        var scrubbed = OutboxProcessor.Scrub("refusé: ABCD-EFGH-JKMN / ABCD EFGH JKMN / abcdefghjkmn / abcd2345", Content("https://x.sn"));
        Assert.DoesNotContain("JKMN", scrubbed, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("abcd2345", scrubbed);
    }
}
