using System.Globalization;
using System.Text;
using Cimef.Site.Data.Entities;

namespace Cimef.Site.Notifications;

/// <summary>The patient SMS: at most 160 characters, GSM-7 only (accents folded when outside GSM-7).</summary>
public static class SmsText
{
    public const int MaxLength = 160;

    // GSM 03.38 basic character set (without the escape table), which keeps a message in one 160-char segment.
    private const string Gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

    public static string Build(NotificationContent c, bool includePassword)
    {
        var head = c.Kind == OutboxKind.ReportAvailable ? "CIMEF: vos resultats sont disponibles." : "CIMEF: votre acces patient est cree.";
        var tail = $" {c.PortalUrl} Cle: {c.GroupedKey}" + (includePassword ? $" Mdp: {c.Password}" : " (mot de passe sur votre facture)");
        var text = ToGsm7(head + tail);
        if (text.Length > MaxLength) text = ToGsm7(head + $" {c.PortalUrl} Cle: {c.GroupedKey}" + (includePassword ? $" Mdp: {c.Password}" : ""));
        if (text.Length > MaxLength) text = ToGsm7($"{c.PortalUrl} Cle: {c.GroupedKey}" + (includePassword ? $" Mdp: {c.Password}" : ""));
        return text.Length > MaxLength ? text[..MaxLength] : text;
    }

    public static bool IsGsm7(string s) => s.All(ch => Gsm7.Contains(ch));

    /// <summary>Keeps GSM-7 characters, folds other accented letters to their base letter, drops the rest.</summary>
    public static string ToGsm7(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var ch in s)
        {
            if (Gsm7.Contains(ch)) { sb.Append(ch); continue; }
            foreach (var d in ch.ToString().Normalize(NormalizationForm.FormD))
                if (CharUnicodeInfo.GetUnicodeCategory(d) != UnicodeCategory.NonSpacingMark && Gsm7.Contains(d)) sb.Append(d);
        }
        return sb.ToString();
    }
}
