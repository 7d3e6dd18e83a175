namespace Cimef.Site.FrontDesk;

/// <summary>Phone numbers in international form: "77 123 45 67" → "+221771234567" (Senegal by default).</summary>
public static class PhoneNumbers
{
    public const string Invalid = "Numéro de téléphone invalide (exemple : 77 123 45 67 ou +221 77 123 45 67).";

    /// <summary>Returns the international form, or null when the input is not a plausible phone number.</summary>
    public static string? Normalize(string? input)
    {
        if (string.IsNullOrWhiteSpace(input)) return null;
        var s = input.Trim();
        var plus = s.StartsWith('+');
        var digits = new string(s.Where(char.IsAsciiDigit).ToArray());
        if (s.Any(c => !char.IsAsciiDigit(c) && c is not (' ' or '-' or '.' or '(' or ')' or '+' or '\u00A0'))) return null;
        if (!plus && digits.StartsWith("00")) { digits = digits[2..]; plus = true; }
        if (!plus && digits.Length == 9) return "+221" + digits;
        if (!plus && digits.Length == 12 && digits.StartsWith("221")) return "+" + digits;
        if (plus && digits.Length is >= 8 and <= 15 && digits[0] != '0')
            return digits.StartsWith("221") && digits.Length != 12 ? null : "+" + digits;
        return null;
    }

    /// <summary>"+221771234567" → "+221 77 123 45 67" for display; other numbers unchanged.</summary>
    public static string Display(string phone) =>
        phone.Length == 13 && phone.StartsWith("+221")
            ? $"+221 {phone[4..6]} {phone[6..9]} {phone[9..11]} {phone[11..]}"
            : phone;
}
