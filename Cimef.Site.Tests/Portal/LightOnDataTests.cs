using System.Net;
using System.Net.Http.Headers;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;

namespace Cimef.Site.Tests.Portal;

/// <summary>
/// Light on data: the dashboard's htmx refresh is conditional (ETag over what the fragment shows, 304 when
/// nothing changed), and the dashboard shows what the patient downloaded this clinic month.
/// </summary>
public class LightOnDataTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public LightOnDataTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        // A zone an hour ahead of UTC, so the clinic month begins at 23:00 UTC the day before.
        factory.Settings["Clinic:TimeZone"] = "Africa/Lagos";
    }

    private static async Task<HttpResponseMessage> RefreshAsync(HttpClient client, EntityTagHeaderValue? etag = null, string? language = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/patient/dashboard");
        request.Headers.Add("HX-Request", "true");
        if (etag is not null) request.Headers.IfNoneMatch.Add(etag);
        if (language is not null) request.Headers.AcceptLanguage.ParseAdd(language);
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task The_refresh_answers_304_while_nothing_changes_and_200_with_a_new_etag_after_a_new_report()
    {
        var p = await _factory.Data.PatientAsync();
        await _factory.Data.ReportAsync(p, "Radiographie du bassin");
        var client = await _factory.PatientClientAsync(p);

        var first = await RefreshAsync(client);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var etag = first.Headers.ETag!;
        Assert.True(etag.IsWeak);
        Assert.True(first.Headers.CacheControl!.Private);
        Assert.True(first.Headers.CacheControl.NoCache);
        Assert.False(first.Headers.CacheControl.NoStore);
        var html = await first.TextAsync();
        Assert.DoesNotContain("__RequestVerificationToken", html); // so the fragment may be kept by the browser
        Assert.Equal(etag, (await RefreshAsync(client)).Headers.ETag); // same content, same tag

        var unchanged = await RefreshAsync(client, etag);
        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        Assert.Empty(await unchanged.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, unchanged.Headers.ETag);
        Assert.Contains("HX-Request", unchanged.Headers.Vary);

        await _factory.Data.ReportAsync(p, "Échographie du foie");
        var changed = await RefreshAsync(client, etag);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.NotEqual(etag, changed.Headers.ETag);
        Assert.Contains("Échographie du foie", await changed.TextAsync());
        Assert.Equal(HttpStatusCode.NotModified, (await RefreshAsync(client, changed.Headers.ETag)).StatusCode);
    }

    [Fact]
    public async Task Another_patient_or_another_language_never_gets_a_304_for_the_same_tag()
    {
        // Two patients whose fragments show the same thing: no reports, nothing downloaded.
        var a = await _factory.Data.PatientAsync();
        var b = await _factory.Data.PatientAsync();
        var clientA = await _factory.PatientClientAsync(a);
        var clientB = await _factory.PatientClientAsync(b);
        var etagA = (await RefreshAsync(clientA)).Headers.ETag!;

        var other = await RefreshAsync(clientB, etagA);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.NotEqual(etagA, other.Headers.ETag);

        var english = await RefreshAsync(clientA, etagA, "en");
        Assert.Equal(HttpStatusCode.OK, english.StatusCode);
        Assert.Contains("Downloaded this month", await english.TextAsync());
        Assert.NotEqual(etagA, english.Headers.ETag);
    }

    [Fact]
    public async Task A_download_changes_the_tag_and_the_month_total()
    {
        var p = await _factory.Data.PatientAsync();
        var id = await _factory.Data.ReportAsync(p, content: new byte[1258291]);
        var client = await _factory.PatientClientAsync(p);
        var before = await RefreshAsync(client);
        Assert.Contains("Téléchargé ce mois-ci : 0 o.", await before.TextAsync());

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/patient/reports/{id}")).StatusCode);
        var after = await RefreshAsync(client, before.Headers.ETag);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Contains("Téléchargé ce mois-ci : 1,2 Mo.", await after.TextAsync());
    }

    [Fact]
    public async Task The_month_total_sums_this_patients_downloads_since_the_clinic_month_began()
    {
        var p = await _factory.Data.PatientAsync();
        var other = await _factory.Data.PatientAsync();
        var big = await _factory.Data.ReportAsync(p, "IRM", content: new byte[2 * 1024 * 1024]);
        var small = await _factory.Data.ReportAsync(p, "Bilan", content: new byte[512 * 1024]);
        var others = await _factory.Data.ReportAsync(other, "Autre", content: new byte[5 * 1024 * 1024]);
        var monthStartUtc = new DateTime(2026, 10, 31, 23, 0, 0, DateTimeKind.Utc); // 1 November 00:00 in Lagos
        await _factory.WithDbAsync(db =>
        {
            void Add(string kind, DateTime at, int access, int report) =>
                db.AccessEvents.Add(new AccessEvent { Kind = kind, At = at, PatientAccessId = access, ReportId = report });
            Add(AccessEventKinds.Download, monthStartUtc, p.AccessId!.Value, big); // counts: the month's first minute, clinic time
            Add(AccessEventKinds.Download, monthStartUtc.AddDays(10), p.AccessId!.Value, big); // counts
            Add(AccessEventKinds.Download, monthStartUtc.AddDays(20), p.AccessId!.Value, small); // counts
            Add(AccessEventKinds.Download, monthStartUtc.AddMinutes(-1), p.AccessId!.Value, big); // October in Lagos
            Add(AccessEventKinds.DownloadPart, monthStartUtc.AddDays(20), p.AccessId!.Value, big); // a range continuation
            Add(AccessEventKinds.Download, monthStartUtc.AddDays(20), other.AccessId!.Value, others); // someone else's
            return db.SaveChangesAsync();
        });

        var html = await (await (await _factory.PatientClientAsync(p)).GetAsync("/patient/dashboard")).TextAsync();
        Assert.Contains("Téléchargé ce mois-ci : 4,5 Mo.", html); // 2 + 2 + 0,5
        Assert.Contains("Un téléchargement interrompu reprend là où il s'était arrêté.", html);
    }
}
