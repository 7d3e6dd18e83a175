using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Portal;

/// <summary>
/// The dashboard rendered once per session and state (RenderedDashboards). A copy is served only to the same
/// session with the same antiforgery cookie, its forms still work, every view is still counted, and any change of what
/// the page shows renders it again.
/// </summary>
public class RenderedDashboardTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public RenderedDashboardTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
    }

    [Fact]
    public async Task A_repeated_view_is_the_same_page_counted_each_time_and_its_logout_form_works()
    {
        var p = await _factory.Data.PatientAsync();
        await _factory.Data.ReportAsync(p, "Radiographie du bassin");
        var client = await _factory.PatientClientAsync(p);
        await client.GetStringAsync("/patient/dashboard"); // sets the antiforgery cookie: the next views present it

        var before = await _factory.EventCountAsync(AccessEventKinds.ReportList, p.AccessId);
        var second = await client.GetAsync("/patient/dashboard");
        var third = await client.GetAsync("/patient/dashboard");
        var (a, b) = (await second.TextAsync(), await third.TextAsync());
        Assert.Equal(a, b); // the same bytes, tokens included
        Assert.Contains("Radiographie du bassin", b);
        Assert.True(third.Headers.CacheControl is { NoStore: true, NoCache: true });
        Assert.Equal("text/html; charset=utf-8", third.Content.Headers.ContentType!.ToString());
        await _factory.FlushEventsAsync();
        Assert.Equal(before + 2, await _factory.EventCountAsync(AccessEventKinds.ReportList, p.AccessId));

        // The served copy's token is valid for this browser: logout ends the session, and the copy is not served after.
        var logout = await client.PostFormAsync("/patient/logout", [], tokenPage: "/patient/dashboard");
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        var after = await client.GetAsync("/patient/dashboard");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Equal("/patient", after.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task What_the_page_shows_changing_renders_it_again()
    {
        var p = await _factory.Data.PatientAsync();
        var id = await _factory.Data.ReportAsync(p, "Scanner thoracique");
        var client = await _factory.PatientClientAsync(p);
        await client.GetStringAsync("/patient/dashboard");
        var first = await client.GetStringAsync("/patient/dashboard");
        Assert.Equal(first, await client.GetStringAsync("/patient/dashboard"));

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/patient/reports/{id}")).StatusCode);
        var downloaded = await client.GetStringAsync("/patient/dashboard");
        Assert.NotEqual(first, downloaded); // the download count and the month's total changed

        await _factory.Data.ReportAsync(p, "Échographie du foie");
        Assert.Contains("Échographie du foie", await client.GetStringAsync("/patient/dashboard"));

        await _factory.WithDbAsync(db => db.Patients.Where(x => x.Id == p.PatientId).ExecuteUpdateAsync(u => u.SetProperty(x => x.FullName, "Awa Renommée")));
        Assert.Contains("Awa Renommée", await client.GetStringAsync("/patient/dashboard"));

        Assert.Contains("lang=\"en\"", await client.GetStringAsync("/patient/dashboard?lang=en"));
        Assert.Contains("lang=\"en\"", await client.GetStringAsync("/patient/dashboard"));
    }

    [Fact]
    public async Task Another_session_of_the_same_patient_never_gets_this_sessions_page()
    {
        var p = await _factory.Data.PatientAsync();
        var phone = await _factory.PatientClientAsync(p);
        var laptop = await _factory.PatientClientAsync(p);
        await phone.GetStringAsync("/patient/dashboard");
        await laptop.GetStringAsync("/patient/dashboard");
        var onPhone = await phone.GetStringAsync("/patient/dashboard");
        var onLaptop = await laptop.GetStringAsync("/patient/dashboard");
        Assert.NotEqual(Token(onPhone), Token(onLaptop)); // each page carries its own browser's tokens

        // Each browser's copy works for that browser only: the laptop's logout leaves the phone signed in.
        Assert.Equal(HttpStatusCode.Redirect, (await laptop.PostFormAsync("/patient/logout", [], tokenPage: "/patient/dashboard")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await phone.GetAsync("/patient/dashboard")).StatusCode);
    }

    private static string Token(string html)
    {
        const string marker = "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"";
        var start = html.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        return html[start..html.IndexOf('"', start)];
    }
}
