using System.Globalization;
using System.Text;
using Cimef.Site.Data.Entities;

namespace Cimef.Site.Notifications;

/// <summary>
/// The patient SMS in the patient's language: at most 160 characters, GSM-7 only (accents folded when outside GSM-7).
/// It says that results exist, never which exam or what result.
/// </summary>
public static class SmsText
{
    public const int MaxLength = 160;

    // GSM 03.38 basic character set (without the escape table), which keeps a message in one 160-char segment.
    private const string Gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

    public static string Build(NotificationContent c, bool includePassword)
    {
        var head = c.Text(c.Kind == OutboxKind.ReportAvailable ? "sms_results" : "sms_credentials", c.PortalUrl);
        var key = c.Text("sms_key", c.GroupedKey);
        var password = includePassword ? c.Text("sms_password", c.Password) : "";
        var text = ToGsm7(head + key + (includePassword ? password : c.Text("sms_password_on_invoice")));
        if (text.Length > MaxLength) text = ToGsm7(head + key + password);
        if (text.Length > MaxLength) text = ToGsm7(c.PortalUrl + key + password);
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
