using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Account;

public class RoleAccessTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Theory]
    [InlineData(Roles.Secretary)]
    [InlineData(Roles.Doctor)]
    [InlineData(Roles.Accountant)]
    [InlineData(Roles.Integration)]
    public async Task Only_admins_open_the_staff_admin_page_and_refusals_are_audited(string role)
    {
        var client = await factory.StaffClientAsync(role);
        var response = await client.GetAsync("/Staff");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/Denied", response.Headers.Location!.PathAndQuery);
        var audited = await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "authz.forbidden" && a.Detail == "GET /Staff"));
        Assert.True(audited);
    }

    [Fact]
    public async Task Admin_creates_a_staff_member_who_can_then_sign_in()
    {
        var admin = await factory.StaffClientAsync(Roles.Admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/Staff")).StatusCode);
        var response = await admin.PostFormAsync("/Staff?handler=Create", new()
        {
            ["Input.FullName"] = "Ndèye Fall",
            ["Input.Email"] = "ndeye@cimef.test",
            ["Input.Role"] = Roles.Doctor,
            ["Input.Password"] = "Radiologie-2026",
        }, tokenPage: "/Staff");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var fresh = factory.NewClient();
        var signIn = await fresh.PostFormAsync("/Account/SignIn", new() { ["Input.Email"] = "ndeye@cimef.test", ["Input.Password"] = "Radiologie-2026" });
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "staff.create" && a.EntityId == "ndeye@cimef.test")));
    }

    [Fact]
    public async Task A_weak_staff_password_is_refused_with_a_french_message()
    {
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var response = await admin.PostFormAsync("/Staff?handler=Create", new()
        {
            ["Input.FullName"] = "Faible",
            ["Input.Email"] = "faible@cimef.test",
            ["Input.Role"] = Roles.Secretary,
            ["Input.Password"] = "court",
        }, tokenPage: "/Staff");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("au moins 10 caractères", System.Net.WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
    }
}
