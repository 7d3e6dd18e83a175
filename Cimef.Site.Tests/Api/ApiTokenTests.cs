using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Api;

public class ApiTokenTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    /// <summary>A token made the way the CLI and the page make them, for a new secretary.</summary>
    private async Task<(string Token, int Id, HttpClient Client)> TokenAsync(string name, int days = 365)
    {
        var token = await factory.Data.ApiTokenAsync(Roles.Secretary, name, days);
        var id = await factory.WithDbAsync(db => db.ApiTokens.Where(t => t.Name == name).Select(t => t.Id).SingleAsync());
        var client = factory.NewClient();
        client.UseBearer(token);
        return (token, id, client);
    }

    [Fact]
    public async Task An_expired_token_is_a_401()
    {
        var (_, _, client) = await TokenAsync("expire-bientot", days: 1);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/exams/")).StatusCode);
        factory.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/exams/")).StatusCode);
    }

    [Fact]
    public async Task Last_use_is_written_at_most_once_a_minute()
    {
        var (_, id, client) = await TokenAsync("usage");
        Task<DateTime?> LastUsed() => factory.WithDbAsync(db => db.ApiTokens.Where(t => t.Id == id).Select(t => t.LastUsedAt).SingleAsync());
        Assert.Null(await LastUsed());
        await client.GetAsync("/api/exams/");
        var first = await LastUsed();
        Assert.Equal(factory.Time.GetUtcNow().UtcDateTime, first);
        factory.Time.Advance(TimeSpan.FromSeconds(30));
        await client.GetAsync("/api/exams/");
        Assert.Equal(first, await LastUsed());
        factory.Time.Advance(TimeSpan.FromSeconds(31));
        await client.GetAsync("/api/exams/");
        Assert.Equal(factory.Time.GetUtcNow().UtcDateTime, await LastUsed());
    }

    [Fact]
    public async Task The_tokens_page_lists_tokens_without_the_secret_and_revokes_one_audited_then_it_is_a_401()
    {
        var (token, id, client) = await TokenAsync("RIS-radiologie");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/exams/")).StatusCode);
        var hash = ApiTokenHandler.HashToken(token);

        var admin = await factory.StaffClientAsync(Roles.Admin);
        var page = await admin.GetStringAsync("/Staff/Tokens");
        Assert.Contains("RIS-radiologie", page);
        Assert.Contains("@cimef.test", page);
        Assert.DoesNotContain(token, page);
        Assert.DoesNotContain(hash, page);

        var revoke = await admin.PostFormAsync($"/Staff/Tokens?handler=Revoke&id={id}", [], tokenPage: "/Staff/Tokens", htmx: true);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        var fragment = await revoke.Content.ReadAsStringAsync();
        Assert.StartsWith($"<tr id=\"token-{id}\"", fragment.Trim());
        Assert.Contains("Révoqué le", fragment);
        Assert.Contains("révoqué", System.Text.Json.JsonDocument.Parse(revoke.Headers.GetValues("HX-Trigger").Single()).RootElement.GetProperty("toast").GetString());

        Assert.NotNull(await factory.WithDbAsync(db => db.ApiTokens.Where(t => t.Id == id).Select(t => t.RevokedAt).SingleAsync()));
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "api_token.revoke" && a.EntityId == id.ToString() && a.UserName.StartsWith("admin-"))));
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "api_token.create" && a.Detail!.StartsWith("RIS-radiologie"))));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/exams/")).StatusCode);

        // Without htmx: post/redirect/get with a status message.
        var (_, id2, _) = await TokenAsync("second");
        var plain = await admin.PostFormAsync($"/Staff/Tokens?handler=Revoke&id={id2}", [], tokenPage: "/Staff/Tokens");
        Assert.Equal(HttpStatusCode.Redirect, plain.StatusCode);
        Assert.Contains("Jeton « second » révoqué.", System.Net.WebUtility.HtmlDecode(await admin.GetStringAsync("/Staff/Tokens")));
    }

    [Fact]
    public async Task The_tokens_page_is_for_admins_only()
    {
        var (_, id, client) = await TokenAsync("pas-touche");
        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        var get = await secretary.GetAsync("/Staff/Tokens");
        Assert.StartsWith("/Account/Denied", get.Headers.Location!.PathAndQuery);
        var post = await secretary.PostFormAsync($"/Staff/Tokens?handler=Revoke&id={id}", [], tokenPage: "/Account/SignIn");
        Assert.StartsWith("/Account/Denied", post.Headers.Location!.PathAndQuery);
        Assert.Null(await factory.WithDbAsync(db => db.ApiTokens.Where(t => t.Id == id).Select(t => t.RevokedAt).SingleAsync()));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/exams/")).StatusCode);
    }
}
