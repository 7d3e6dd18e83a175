using Cimef.Site.Api;
using System.Globalization;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Cimef.Site.Portal;

namespace Cimef.Site.Languages;

/// <summary>
/// The patient side's three languages. A request's language: <c>?lang=</c> (the visible switch, which also
/// sets the cookie), then the <c>cimef_lang</c> cookie, then <c>Accept-Language</c>, then French. Only the UI culture
/// changes (which catalogue <see cref="PatientText"/> reads); numbers and dates keep the fr-SN formats everywhere.
/// The JSON API ignores the cookie: its messages stay French (contract) unless the caller sends Accept-Language.
/// </summary>
public static class PatientLanguages
{
    public const string CookieName = "cimef_lang";
    public const string French = "fr";
    public const string Wolof = "wo";
    public const string English = "en";

    /// <summary>In the switch's order, each with its name in its own language (« Français · Wolof · English »).</summary>
    public static readonly IReadOnlyList<(string Code, string Name)> All = [(French, "Français"), (Wolof, "Wolof"), (English, "English")];

    private static readonly Dictionary<string, CultureInfo> Cultures = new(StringComparer.OrdinalIgnoreCase)
    {
        [French] = CultureInfo.GetCultureInfo("fr"),
        [Wolof] = CultureInfo.GetCultureInfo("wo"),
        [English] = CultureInfo.GetCultureInfo("en"),
    };

    public static CultureInfo Culture(string? code) => Cultures.GetValueOrDefault(Normalize(code) ?? French)!;

    /// <summary>"wo", "WO", "wo-SN", "en-GB"… → the supported code; anything else → null.</summary>
    public static string? Normalize(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > 35) return null;
        var primary = value.Split('-', '_')[0].Trim().ToLowerInvariant();
        return Cultures.ContainsKey(primary) ? primary : null;
    }

    /// <summary>The current request's language code (fr, wo or en).</summary>
    public static string Current => Normalize(CultureInfo.CurrentUICulture.Name) ?? French;

    /// <summary>The language a request asks for, without side effects.</summary>
    public static string Choose(HttpRequest request)
    {
        var api = request.IsApi();
        if (!api && Normalize(request.Query["lang"]) is { } asked) return asked;
        if (!api && Normalize(request.Cookies[CookieName]) is { } remembered) return remembered;
        var header = request.Headers.AcceptLanguage.ToString();
        if (header.Length is > 0 and <= 500
            && StringWithQualityHeaderValue.TryParseList(header.Split(','), out var ranges))
        {
            foreach (var range in ranges.OrderByDescending(r => r.Quality ?? 1))
                if ((range.Quality ?? 1) > 0 && Normalize(range.Value.Value) is { } code) return code;
        }
        return French;
    }

    /// <summary>
    /// The switch's link to <paramref name="code"/>: the current page (for a re-executed error page, the page that
    /// failed) with its query kept and <c>lang</c> replaced, so the switch works as a plain link without JavaScript.
    /// </summary>
    public static string SwitchHref(HttpContext http, string code)
    {
        var reExecuted = http.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodeReExecuteFeature>();
        var failed = http.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerPathFeature>();
        var path = reExecuted?.OriginalPath ?? failed?.Path ?? http.Request.Path.Value ?? PatientRoutes.Login;
        var query = reExecuted is not null ? QueryHelpers.ParseQuery(reExecuted.OriginalQueryString)
            : failed is not null ? [] : http.Request.Query.ToDictionary(q => q.Key, q => q.Value);
        var kept = query.Where(q => !string.Equals(q.Key, "lang", StringComparison.OrdinalIgnoreCase))
            .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)))
            .Append(new KeyValuePair<string, string?>("lang", code));
        return QueryHelpers.AddQueryString(path, kept);
    }

    /// <summary>Middleware: sets the UI culture for the request and, when <c>?lang=</c> chose it, remembers it for a year.</summary>
    public static IApplicationBuilder UsePatientLanguages(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var language = Choose(context.Request);
        CultureInfo.CurrentUICulture = Culture(language);
        if (Normalize(context.Request.Query["lang"]) is not null && !context.Request.IsApi()
            && context.Request.Cookies[CookieName] != language)
            context.Response.Cookies.Append(CookieName, language, new CookieOptions
            {
                Path = "/",
                Secure = true,
                HttpOnly = true,
                SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Lax,
                IsEssential = true,
                MaxAge = TimeSpan.FromDays(365),
            });
        return next(context);
    });

    /// <summary>Whether <paramref name="chosen"/> changes the patient's saved language (none saved means French).</summary>
    public static bool Changes(string? saved, string? chosen) => (saved ?? French) != (chosen ?? French);

    /// <summary>
    /// Saves the patient's language in the caller's write transaction (the login's, or the dashboard's switch): the
    /// one writer of Patients.Language on the patient side. Nothing is written when the choice does not change it.
    /// </summary>
    public static async Task<bool> SaveAsync(Data.HotQueries.Commands c, int patientId, string? saved, string chosen, CancellationToken ct)
    {
        if (!Changes(saved, chosen)) return false;
        await c.ExecuteAsync(SaveSql, cmd =>
        {
            Data.HotQueries.Add(cmd, "id", patientId);
            Data.HotQueries.Add(cmd, "language", chosen);
        }, ct);
        return true;
    }

    private const string SaveSql = """UPDATE "Patients" SET "Language" = @language WHERE "Id" = @id""";
}
