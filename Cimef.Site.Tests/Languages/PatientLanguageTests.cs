using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Cimef.Site.Languages;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Languages;

/// <summary>
/// The patient side in French, Wolof and English: the order of the choice (?lang= › cookie ›
/// Accept-Language › French), the switch on every patient page, pages and error pages from the catalogues, the
/// patient's last choice saved on their record, and the JSON API that stays French unless asked otherwise.
/// </summary>
public partial class PatientLanguageTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public PatientLanguageTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    private static async Task<string> GetHtmlAsync(HttpClient client, string url, string? acceptLanguage = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (acceptLanguage is not null) request.Headers.Add("Accept-Language", acceptLanguage);
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.TextAsync();
    }

    private static string HtmlLang(string html) => HtmlLangRegex().Match(html).Groups[1].Value;

    [Fact]
    public async Task The_choice_is_query_then_cookie_then_accept_language_then_french()
    {
        var client = _factory.NewClient();
        Assert.Equal("fr", HtmlLang(await GetHtmlAsync(client, "/patient")));
        Assert.Equal("fr", HtmlLang(await GetHtmlAsync(client, "/patient", "de-DE, it;q=0.8")));
        Assert.Equal("en", HtmlLang(await GetHtmlAsync(client, "/patient", "de, en-GB;q=0.9, fr;q=0.5")));
        Assert.Equal("wo", HtmlLang(await GetHtmlAsync(client, "/patient", "wo-SN")));

        Assert.Equal("wo", HtmlLang(await GetHtmlAsync(client, "/patient?lang=wo", "en"))); // query beats the header
        Assert.Equal("wo", HtmlLang(await GetHtmlAsync(client, "/patient", "en")));          // then the cookie it set
        Assert.Equal("fr", HtmlLang(await GetHtmlAsync(client, "/patient?lang=fr", "en")));  // a new query replaces the cookie
        Assert.Equal("fr", HtmlLang(await GetHtmlAsync(client, "/patient", "en")));
        Assert.Equal("fr", HtmlLang(await GetHtmlAsync(client, "/patient?lang=xx")));         // an unknown code is ignored
    }

    [Fact]
    public async Task The_switch_sets_a_long_lived_http_only_cookie_and_only_when_it_changes()
    {
        var client = _factory.NewClient();
        var response = await client.GetAsync("/patient?lang=en");
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(PatientLanguages.CookieName + "=", StringComparison.Ordinal));
        Assert.StartsWith("cimef_lang=en;", cookie);
        Assert.Contains("path=/", cookie);
        Assert.Contains("secure", cookie);
        Assert.Contains("httponly", cookie);
        Assert.Contains("samesite=lax", cookie);
        Assert.Contains("max-age=31536000", cookie);

        var again = await client.GetAsync("/patient?lang=en");
        Assert.False(again.Headers.TryGetValues("Set-Cookie", out var set) && set.Any(c => c.StartsWith("cimef_lang=", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("wo", "Sa caabi (12 araf)", "Sa baatu jàll (8 araf)", "Dugg")]
    [InlineData("en", "Access key (12 characters)", "Password (8 characters)", "Sign in")]
    public async Task The_login_page_speaks_the_language_with_no_french_left(string lang, string keyLabel, string passwordLabel, string button)
    {
        var html = await GetHtmlAsync(_factory.NewClient(), $"/patient?lang={lang}");
        Assert.Equal(lang, HtmlLang(html));
        Assert.Contains(keyLabel, html);
        Assert.Contains(passwordLabel, html);
        Assert.Contains($">{button}</button>", html);
        Assert.Contains($"data-bad=\"{PatientText.Get("login_js_bad_key", PatientLanguages.Culture(lang))}\"", html);
        foreach (var french in new[] { "Clé d'accès", "Mot de passe", "Se connecter", "Accéder à mes résultats", "figurent sur votre facture", "Mes résultats d'examen", "caractères" })
            Assert.DoesNotContain(french, html);
    }

    [Fact]
    public async Task The_switch_is_three_plain_links_to_the_same_page_with_the_current_one_marked()
    {
        var p = await _factory.Data.PatientAsync();
        var client = await _factory.PatientClientAsync(p);
        var html = await GetHtmlAsync(client, "/patient/history?p=1&lang=wo");
        var links = SwitchLinkRegex().Matches(html).Select(m => (Href: m.Groups[1].Value, Lang: m.Groups[2].Value, Hreflang: m.Groups[3].Value, Current: m.Groups[4].Success, Name: m.Groups[5].Value)).ToList();
        Assert.Equal(
            [("/patient/history?p=1&lang=fr", "fr", "fr", false, "Français"), ("/patient/history?p=1&lang=wo", "wo", "wo", true, "Wolof"), ("/patient/history?p=1&lang=en", "en", "en", false, "English")],
            links);
        Assert.Contains("<nav class=\"p-lang\" aria-label=\"Làkk\">", html);
    }

    [Theory]
    [InlineData("wo", "Sama bunt", "Génn", "Amul benn njureef léegi")]
    [InlineData("en", "My access", "Sign out", "No results available yet")]
    public async Task The_dashboard_speaks_the_language_with_no_french_left(string lang, string access, string logout, string noReports)
    {
        var p = await _factory.Data.PatientAsync();
        var client = await _factory.PatientClientAsync(p);
        var html = await GetHtmlAsync(client, $"/patient/dashboard?lang={lang}");
        Assert.Equal(lang, HtmlLang(html));
        Assert.Contains(access, html);
        Assert.Contains(logout, html);
        Assert.Contains(noReports, html);
        foreach (var french in new[] { "Mon accès", "Se déconnecter", "Aucun résultat", "Actualiser", "Connexions", "Historique de mon accès", "Bonjour" })
            Assert.DoesNotContain(french, html);

        await _factory.Data.ReportAsync(p, "IRM du genou", content: new byte[3 * 1024]);
        var list = await GetHtmlAsync(client, "/patient/dashboard");
        Assert.Contains(lang == "wo" ? "3 Ko" : "3 KB", list);
        Assert.Contains(lang == "wo" ? "Yebbu" : "Download", list);
        foreach (var french in new[] { "Télécharger", "Voir / imprimer", "Partager avec mon médecin", "téléchargé" })
            Assert.DoesNotContain(french, list);
    }

    [Fact]
    public async Task A_wrong_password_is_answered_in_wolof()
    {
        var p = await _factory.Data.PatientAsync();
        var client = _factory.NewClient();
        await GetHtmlAsync(client, "/patient?lang=wo");
        var response = await client.LoginFormAsync(p.Key, "zzzzzzzz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.TextAsync();
        Assert.Contains("Sa caabi walla sa baatu jàll baaxul", html);
        Assert.DoesNotContain("incorrect", html);
    }

    [Fact]
    public async Task The_last_choice_is_saved_on_the_patient_at_login_and_by_the_switch_when_signed_in()
    {
        var p = await _factory.Data.PatientAsync();
        Task<string?> SavedAsync() => _factory.WithDbAsync(db => db.Patients.Where(x => x.Id == p.PatientId).Select(x => x.Language).SingleAsync());

        await _factory.PatientClientAsync(p); // French by default: nothing to save (null means French)
        Assert.Null(await SavedAsync());

        var client = _factory.NewClient();
        await GetHtmlAsync(client, "/patient?lang=wo");
        Assert.Equal(HttpStatusCode.Redirect, (await client.LoginFormAsync(p.Key, p.Password)).StatusCode);
        Assert.Equal("wo", await SavedAsync());

        await GetHtmlAsync(client, "/patient/dashboard?lang=en");
        Assert.Equal("en", await SavedAsync());

        // Only the switch saves: a plain dashboard visit (cookie en) leaves a staff change alone.
        await _factory.WithDbAsync(db => db.Patients.Where(x => x.Id == p.PatientId).ExecuteUpdateAsync(s => s.SetProperty(x => x.Language, "fr")));
        await GetHtmlAsync(client, "/patient/dashboard");
        Assert.Equal("fr", await SavedAsync());
        await GetHtmlAsync(client, "/patient/dashboard?lang=wo");
        Assert.Equal("wo", await SavedAsync());
    }

    [Fact]
    public async Task The_json_api_stays_french_unless_the_caller_sends_accept_language()
    {
        var p = await _factory.Data.PatientAsync();
        var client = _factory.NewClient();
        await GetHtmlAsync(client, "/patient?lang=wo"); // the cookie is ignored by the API

        async Task<string> ErrorAsync(string? acceptLanguage)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/patients/portal/login/")
            {
                Content = JsonContent.Create(new Dictionary<string, string> { ["access_key"] = p.Key, ["password"] = "zzzzzzzz" }),
            };
            if (acceptLanguage is not null) request.Headers.Add("Accept-Language", acceptLanguage);
            var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            return (await response.JsonAsync()).GetProperty("error").GetString()!;
        }

        Assert.Equal("Clé d'accès ou mot de passe incorrect", await ErrorAsync(null));
        Assert.Equal("Sa caabi walla sa baatu jàll baaxul", await ErrorAsync("wo"));
        Assert.Equal("Access key or password incorrect", await ErrorAsync("en-US,en;q=0.9"));

        // An API login saves no language on the patient (it has no switch).
        var login = await _factory.NewClient().SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/patients/portal/login/")
        {
            Content = JsonContent.Create(new Dictionary<string, string> { ["access_key"] = p.Key, ["password"] = p.Password }),
            Headers = { { "Accept-Language", "en" } },
        });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Null(await _factory.WithDbAsync(db => db.Patients.Where(x => x.Id == p.PatientId).Select(x => x.Language).SingleAsync()));
    }

    [Fact]
    public async Task A_missing_report_and_a_missing_patient_page_are_error_pages_in_english()
    {
        var p = await _factory.Data.PatientAsync();
        var client = await _factory.PatientClientAsync(p);
        await GetHtmlAsync(client, "/patient/dashboard?lang=en");

        var response = await client.GetAsync("/patient/reports/999999");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var html = await response.TextAsync();
        Assert.Equal("en", HtmlLang(html));
        Assert.Contains("<h1>Report not found</h1>", html);
        Assert.Contains("Back to my results", html);
        Assert.DoesNotContain("Rapport introuvable", html);
        Assert.DoesNotContain("Retour", html);

        var missing = await client.GetAsync("/patient/nothing-here?x=1");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var page = await missing.TextAsync();
        Assert.Equal("en", HtmlLang(page));
        Assert.Contains("<h1>Page not found</h1>", page);
        Assert.Contains("Back to the home page", page);
        Assert.Contains("href=\"/patient/nothing-here?x=1&lang=wo\"", page); // the switch points at the failing page
        Assert.DoesNotContain("Page introuvable", page);

        // The staff side's error page stays French whatever the cookie says.
        var staff = await _factory.NewClient().GetAsync("/Patients/nothing-here?lang=en");
        Assert.Contains("Page introuvable", await staff.TextAsync());
    }

    [GeneratedRegex("<html lang=\"([a-z]*)\"")]
    private static partial Regex HtmlLangRegex();

    [GeneratedRegex("<a href=\"([^\"]+)\" lang=\"([a-z]+)\" hreflang=\"([a-z]+)\"( aria-current=\"true\")?>([^<]+)</a>")]
    private static partial Regex SwitchLinkRegex();
}
