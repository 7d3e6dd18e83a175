using System.Net;
using System.Text.RegularExpressions;
using Cimef.Site.Access;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Portal;

/// <summary>
/// /patient/history (« Historique de mon accès »): the patient's logins with a device name, downloads,
/// share openings and the clinic's actions on their credentials, in French, newest first, paged, last 12 months;
/// nothing of another patient, no address, staff name or User-Agent.
/// </summary>
public partial class AccessHistoryTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private const string AndroidUa = "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36";
    private const string IphoneUa = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    private const string WindowsUa = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
    private const string StaffName = "fatou.secretaire@cimef.test";
    private const string Ip = "10.77.66.55";

    private DateTime Now => factory.Time.GetUtcNow().UtcDateTime;

    private static AccessEvent Event(string kind, DateTime at, int accessId, int? reportId = null, string? ua = null, string? detail = null) =>
        new() { Kind = kind, At = at, PatientAccessId = accessId, ReportId = reportId, ClientIp = Ip, UserAgent = ua, Detail = detail };

    private static AuditEntry Staff(string action, DateTime at, int accessId, string detail, CredentialHandoverKind? handover = null) =>
        new() { At = at, UserId = "staff-1", UserName = StaffName, Action = action, EntityType = "PatientAccess", EntityId = accessId.ToString(), Detail = detail, Handover = handover };

    private Task AddAsync(params object[] rows) => factory.WithDbAsync(async db =>
    {
        db.AddRange(rows);
        return await db.SaveChangesAsync();
    });

    private static List<string> Items(string html) =>
        ItemRegex().Matches(html).Select(m => m.Groups[1].Value + " " + m.Groups[2].Value.Trim()).ToList();

    private static int Position(string html, string text)
    {
        var i = html.IndexOf(text, StringComparison.Ordinal);
        Assert.True(i >= 0, $"« {text} » missing from the page");
        return i;
    }

    [Fact]
    public async Task A_credentials_handover_reads_as_its_recorded_kind_never_as_its_detail_text()
    {
        var p = await factory.Data.PatientAsync("Awa Remise");
        var access = p.AccessId!.Value;
        // Details that would mislead a reading of the text: the kind the handover recorded decides.
        await AddAsync(
            Staff(CredentialHandover.RevealAction, Now.AddHours(-1), access, $"patient {p.PatientId}, canal api", CredentialHandoverKind.Printed),
            Staff(CredentialHandover.RevealAction, Now.AddHours(-2), access, $"patient {p.PatientId}, facture X, canal page", CredentialHandoverKind.Shown),
            Staff(CredentialHandover.RevealAction, Now.AddHours(-3), access, $"patient {p.PatientId}, facture Y, canal page", CredentialHandoverKind.Handed));

        var html = await (await (await factory.PatientClientAsync(p)).GetAsync("/patient/history")).TextAsync();
        string[] expected = ["Identifiants imprimés par le cabinet", "Identifiants affichés par le cabinet", "Identifiants transmis par le cabinet"];
        var positions = expected.Select(e => Position(html, e)).ToList();
        Assert.Equal(positions.Order(), positions);
        Assert.Equal(1, html.Split("Identifiants imprimés").Length - 1);
    }

    [Fact]
    public async Task Lists_logins_with_devices_downloads_share_openings_and_staff_actions_in_french_newest_first()
    {
        var p = await factory.Data.PatientAsync("Mariama Historique");
        var access = p.AccessId!.Value;
        var report = await factory.Data.ReportAsync(p, "IRM du genou");
        var clock = factory.Services.GetRequiredService<Cimef.Site.Web.ClinicClock>();
        var now = Now;
        await AddAsync(
            Event(AccessEventKinds.LoginSuccess, now.AddHours(-1), access, ua: AndroidUa),
            Event(AccessEventKinds.Download, now.AddHours(-2), access, report, AndroidUa),
            Event(AccessEventKinds.ShareOpen, now.AddHours(-3), access, report, WindowsUa, detail: "17"),
            Event(AccessEventKinds.ShareDownload, now.AddHours(-3).AddMinutes(1), access, report, WindowsUa, detail: "17"),
            Event(AccessEventKinds.LoginSuccess, now.AddHours(-4), access, ua: IphoneUa),
            Event(AccessEventKinds.LoginSuccess, now.AddHours(-5), access, ua: WindowsUa),
            Event(AccessEventKinds.LoginFailure, now.AddHours(-5).AddMinutes(10), access, ua: WindowsUa), // not shown
            Event(AccessEventKinds.ReportList, now.AddHours(-5).AddMinutes(5), access, ua: WindowsUa), // not shown
            Staff(CredentialHandover.RevealAction, now.AddHours(-6), access, $"patient {p.PatientId}, facture {p.InvoiceNumber}, canal page", CredentialHandoverKind.Printed),
            Staff(CredentialHandover.RevealAction, now.AddHours(-7), access, $"patient {p.PatientId}, canal page", CredentialHandoverKind.Shown),
            Staff("access.deactivate", now.AddHours(-8), access, $"patient {p.PatientId}, motif : perte"),
            Staff("access.activate", now.AddHours(-9), access, $"patient {p.PatientId}, mêmes identifiants"),
            Staff("access.regenerate", now.AddHours(-10), access, "nouvelle clé …ABCD"),
            Staff("access.unlock", now.AddHours(-11), access, "1 échec(s) effacé(s)"),
            new OutboxMessage
            {
                Kind = OutboxKind.Credentials, Channel = OutboxChannel.Sms, PatientId = p.PatientId, PatientAccessId = access, Recipient = p.Phone,
                Status = OutboxStatus.Sent, CreatedAt = now.AddHours(-12), NextAttemptAt = now.AddHours(-12), SentAt = now.AddHours(-12), ClaimedBy = "node-a",
            });

        var client = await factory.PatientClientAsync(p);
        var response = await client.GetAsync("/patient/history");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.TextAsync();
        Assert.Contains("<h1>Historique de mon accès</h1>", html);
        Assert.Contains($"{clock.DateTime(now.AddHours(-1))}</span> Connexion — téléphone Android", html);
        Assert.Matches(@"\d\d/\d\d/\d{4} \d\d:\d\d</span> Connexion — navigateur inconnu", html); // this test's own login

        string[] expected =
        [
            "Connexion — navigateur inconnu",
            "Connexion — téléphone Android",
            "Téléchargement : IRM du genou",
            $"IRM du genou — téléchargé via le lien partagé du {clock.ToLocal(now.AddHours(-3)):dd/MM}",
            $"IRM du genou — ouvert via le lien partagé du {clock.ToLocal(now.AddHours(-3)):dd/MM}",
            "Connexion — iPhone",
            "Connexion — ordinateur Windows",
            "Identifiants imprimés par le cabinet",
            "Identifiants affichés par le cabinet",
            "Accès désactivé par le cabinet",
            "Accès réactivé par le cabinet",
            "Nouveaux identifiants créés par le cabinet",
            "Accès débloqué par le cabinet",
            "Identifiants envoyés par SMS",
        ];
        var positions = expected.Select(e => Position(html, e)).ToList();
        Assert.Equal(positions.Order(), positions);

        Assert.DoesNotContain("Échec", html);
        Assert.DoesNotContain("Consultation", html);
        Assert.DoesNotContain(Ip, html);
        Assert.DoesNotContain("127.0.0.1", html);
        Assert.DoesNotContain(StaffName, html);
        Assert.DoesNotContain("fatou", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Mozilla", html);
        Assert.DoesNotContain("canal", html);
        Assert.DoesNotContain(p.InvoiceNumber, html);
        Assert.DoesNotContain(p.Key, html);
        Assert.DoesNotContain(CredentialGenerator.FormatKey(p.Key), html);
        // Strict CSP: no inline script or style.
        Assert.DoesNotContain("<style", html);
        Assert.DoesNotContain(" style=", html);
        Assert.DoesNotMatch("<script(?![^>]*src=)", html);
        Assert.True(response.Headers.CacheControl!.NoStore);

        var dashboard = await (await client.GetAsync("/patient/dashboard")).TextAsync();
        Assert.Contains("<a href=\"/patient/history\">Historique de mon accès</a>", dashboard);
    }

    [Fact]
    public async Task Pages_of_twenty_with_a_plain_link_and_an_htmx_fragment()
    {
        var p = await factory.Data.PatientAsync("Khady Pages");
        var access = p.AccessId!.Value;
        var now = Now;
        await AddAsync(Enumerable.Range(1, 45).Select(i => (object)Event(AccessEventKinds.LoginSuccess, now.AddMinutes(-7 * i), access, ua: AndroidUa)).ToArray());
        var client = await factory.PatientClientAsync(p);

        var first = await client.GetAsync("/patient/history");
        var html = await first.TextAsync();
        Assert.Contains("HX-Request", first.Headers.Vary);
        var page1 = Items(html);
        Assert.Equal(20, page1.Count);
        Assert.Contains("href=\"/patient/history?p=2\" data-more>Voir plus</a>", html);
        Assert.DoesNotContain("Plus récents", html);

        // Without JavaScript: page 2 is a whole page with a way back.
        var plain = await (await client.GetAsync("/patient/history?p=2")).TextAsync();
        Assert.Contains("<html", plain);
        Assert.Contains("href=\"/patient/history?p=1\">Plus récents</a>", plain);

        // With it: the next rows and the next link only, in place of the link.
        var fragment2 = await client.HtmxGetAsync("/patient/history?p=2");
        var f2 = await fragment2.TextAsync();
        Assert.StartsWith("<ol class=\"hist\"", f2.TrimStart());
        Assert.DoesNotContain("<html", f2);
        Assert.DoesNotContain("Plus récents", f2);
        Assert.Equal(Items(plain), Items(f2));
        Assert.Contains("/patient/history?p=3", f2);
        var f3 = await (await client.HtmxGetAsync("/patient/history?p=3")).TextAsync();
        Assert.DoesNotContain("Voir plus", f3);

        // 45 inserted logins + this test's own + the access's creation (+ credentials sent, if the outbox ran): every
        // row once, dates never increasing from one page to the next.
        var all = page1.Concat(Items(f2)).Concat(Items(f3)).ToList();
        Assert.Equal(46, all.Count(r => r.Contains("Connexion — ")));
        Assert.Contains(all, r => r.EndsWith("Accès créé par le cabinet"));
        var dates = all.Select(r => DateTime.ParseExact(r[..16], "dd/MM/yyyy HH:mm", null)).ToList();
        Assert.Equal(dates.OrderDescending(), dates);
        Assert.Equal(46, all.Where(r => r.Contains("Connexion — ")).Distinct().Count());

        // Bad page numbers are clamped, never a 500.
        foreach (var bad in new[] { "0", "-3", "abc", "99999999999" })
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/patient/history?p={bad}")).StatusCode);
        Assert.Equal(page1, Items(await (await client.GetAsync("/patient/history?p=-3")).TextAsync()));
    }

    [Fact]
    public async Task Only_the_last_twelve_months_are_shown()
    {
        var p = await factory.Data.PatientAsync("Ndèye Douze Mois");
        var access = p.AccessId!.Value;
        var now = Now;
        await AddAsync(
            Event(AccessEventKinds.LoginSuccess, now.AddMonths(-12).AddDays(1), access, ua: IphoneUa),
            Event(AccessEventKinds.LoginSuccess, now.AddMonths(-12).AddHours(-1), access, ua: WindowsUa),
            Staff("access.deactivate", now.AddMonths(-12).AddHours(-2), access, "ancien"));

        var html = await (await (await factory.PatientClientAsync(p)).GetAsync("/patient/history")).TextAsync();
        Assert.Contains("Connexion — iPhone", html);
        Assert.DoesNotContain("ordinateur Windows", html);
        Assert.DoesNotContain("Accès désactivé", html);

        // Two days later the iPhone login is older than 12 months too.
        factory.Time.Advance(TimeSpan.FromDays(2));
        html = await (await (await factory.PatientClientAsync(p)).GetAsync("/patient/history")).TextAsync();
        Assert.DoesNotContain("iPhone", html);
        Assert.Contains("Connexion — navigateur inconnu", html);
    }

    [Fact]
    public async Task Shows_nothing_of_another_patient()
    {
        var a = await factory.Data.PatientAsync("Awa Première");
        var b = await factory.Data.PatientAsync("Binta Seconde");
        var reportA = await factory.Data.ReportAsync(a, "Échographie de Awa");
        var reportB = await factory.Data.ReportAsync(b, "Scanner de Binta");
        var now = Now;
        var rows = new List<object>();
        for (var i = 0; i < 6; i++)
        {
            rows.Add(Event(AccessEventKinds.LoginSuccess, now.AddMinutes(-10 * i - 1), a.AccessId!.Value, ua: AndroidUa));
            rows.Add(Event(AccessEventKinds.LoginSuccess, now.AddMinutes(-10 * i - 2), b.AccessId!.Value, ua: IphoneUa));
            rows.Add(Event(AccessEventKinds.Download, now.AddMinutes(-10 * i - 3), a.AccessId!.Value, reportA, AndroidUa));
            rows.Add(Event(AccessEventKinds.ShareOpen, now.AddMinutes(-10 * i - 4), b.AccessId!.Value, reportB, WindowsUa, "99"));
        }
        rows.Add(Staff("access.deactivate", now.AddMinutes(-5), b.AccessId!.Value, $"patient {b.PatientId}"));
        // A row of A's naming B's report: A never sees B's title.
        rows.Add(Event(AccessEventKinds.Download, now.AddMinutes(-6), a.AccessId!.Value, reportB, AndroidUa));
        await AddAsync([.. rows]);

        var client = await factory.PatientClientAsync(a);
        // Parameters naming the other patient change nothing: the owner comes from the session.
        foreach (var url in new[] { "/patient/history", $"/patient/history?id={b.PatientId}&access={b.AccessId}&patientId={b.PatientId}" })
        {
            var html = await (await client.GetAsync(url)).TextAsync();
            Assert.Contains("Téléchargement : Échographie de Awa", html);
            Assert.Contains("Connexion — téléphone Android", html);
            Assert.Contains("Téléchargement : rapport retiré", html);
            Assert.DoesNotContain("Binta", html);
            Assert.DoesNotContain("iPhone", html);
            Assert.DoesNotContain("lien partagé", html);
            Assert.DoesNotContain("désactivé", html);
        }
        var htmlB = await (await (await factory.PatientClientAsync(b)).GetAsync("/patient/history")).TextAsync();
        Assert.Contains("Scanner de Binta — ouvert via le lien partagé du", htmlB);
        Assert.Contains("Accès désactivé par le cabinet", htmlB);
        Assert.DoesNotContain("Awa", htmlB);
        Assert.DoesNotContain("téléphone Android", htmlB);
    }

    [Fact]
    public async Task A_session_is_required()
    {
        var anonymous = factory.NewClient();
        var response = await anonymous.GetAsync("/patient/history");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/patient", response.Headers.Location!.OriginalString);

        var htmx = await anonymous.HtmxGetAsync("/patient/history?p=2");
        Assert.Equal(HttpStatusCode.OK, htmx.StatusCode);
        Assert.Equal("/patient", htmx.Headers.GetValues("HX-Redirect").Single());
        Assert.Equal("", await htmx.Content.ReadAsStringAsync());

        // A staff session is not a patient session.
        var staff = await factory.StaffClientAsync(Roles.Admin);
        var asStaff = await staff.GetAsync("/patient/history");
        Assert.Equal(HttpStatusCode.Redirect, asStaff.StatusCode);
        Assert.Equal("/patient", asStaff.Headers.Location!.OriginalString);
    }

    [Theory]
    [InlineData(AndroidUa, "téléphone Android")]
    [InlineData("Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 Chrome/120.0 Safari/537.36", "tablette Android")]
    [InlineData(IphoneUa, "iPhone")]
    [InlineData("Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15", "iPad")]
    [InlineData(WindowsUa, "ordinateur Windows")]
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15", "ordinateur Mac")]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0", "ordinateur Linux")]
    [InlineData("okhttp/4.12.0", "navigateur inconnu")]
    [InlineData(null, "navigateur inconnu")]
    public void Device_names_are_coarse(string? userAgent, string expected) =>
        Assert.Equal(expected, Cimef.Site.Auditing.Labels.Device(userAgent));

    [GeneratedRegex(@"<li><span class=""meta"">([^<]+)</span>([^<]*)</li>")]
    private static partial Regex ItemRegex();
}
