using Cimef.Site.Data.Entities;
using Cimef.Site.Notifications;
using MailKit.Security;

namespace Cimef.Site.Tests.Notifications;

public class MessageTextTests
{
    private static NotificationContent Content(string url) =>
        new(OutboxKind.ReportAvailable, "Ndèye Fatou Ndiaye", url, "ABCDEFGHJKMN", "abcd2345", "Échographie");

    [Theory]
    [InlineData("https://portail.cimef.sn/patient", false)]
    [InlineData("https://portail.cimef.sn/patient", true)]
    [InlineData("https://un-domaine-vraiment-tres-long-pour-un-portail.cimef-imagerie-medicale.sn/acces/patient/resultats", true)]
    public void The_sms_fits_one_gsm7_segment_and_keeps_the_url_and_key(string url, bool includePassword)
    {
        var text = SmsText.Build(Content(url), includePassword);
        Assert.True(text.Length <= SmsText.MaxLength, text);
        Assert.True(SmsText.IsGsm7(text), text);
        Assert.Contains(url, text);
        Assert.Contains("ABCD EFGH JKMN", text);
        Assert.Equal(includePassword, text.Contains("abcd2345"));
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
