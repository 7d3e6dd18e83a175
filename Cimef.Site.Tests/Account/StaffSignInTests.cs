using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Account;

public class StaffSignInTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private static Dictionary<string, string> Form(string email, string password) =>
        new() { ["Input.Email"] = email, ["Input.Password"] = password };

    [Fact]
    public async Task Staff_home_without_a_session_redirects_to_sign_in()
    {
        var response = await factory.NewClient().GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/SignIn", response.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task Htmx_request_without_a_session_gets_HX_Redirect_not_a_login_page()
    {
        var response = await factory.NewClient().HtmxGetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("https://localhost/Account/SignIn", response.Headers.GetValues("HX-Redirect").Single());
        Assert.Equal("", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Correct_password_signs_in_and_shows_the_staff_home()
    {
        await factory.CreateStaffAsync("ok@cimef.test", Roles.Secretary);
        var client = factory.NewClient();
        var response = await client.PostFormAsync("/Account/SignIn", Form("ok@cimef.test", CimefFactory.StaffPassword));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString);
        var home = await client.GetStringAsync("/");
        Assert.Contains("Bonjour ok@cimef.test", home);
        Assert.Contains("Secrétaire", home);
    }

    [Fact]
    public async Task Wrong_password_is_refused_in_french()
    {
        await factory.CreateStaffAsync("wrong@cimef.test", Roles.Doctor);
        var response = await factory.NewClient().PostFormAsync("/Account/SignIn", Form("wrong@cimef.test", "pas-le-bon-1"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Adresse e-mail ou mot de passe incorrect.", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Five_failures_lock_the_account_and_then_the_right_password_is_refused()
    {
        await factory.CreateStaffAsync("lock@cimef.test", Roles.Accountant);
        var client = factory.NewClient();
        for (var i = 0; i < 5; i++)
            await client.PostFormAsync("/Account/SignIn", Form("lock@cimef.test", "mauvais-mdp-" + i));
        var response = await client.PostFormAsync("/Account/SignIn", Form("lock@cimef.test", CimefFactory.StaffPassword));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The same words as a wrong password: a stranger learns nothing about the account.
        Assert.Contains(Cimef.Site.Pages.Account.SignInModel.Refused, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
        var lockoutEnd = await factory.WithDbAsync(db => db.Users.Where(u => u.Email == "lock@cimef.test").Select(u => u.LockoutEnd).SingleAsync());
        Assert.NotNull(lockoutEnd);
    }

    [Fact]
    public async Task Staff_passwords_are_hashed_with_at_least_210000_iterations()
    {
        await factory.CreateStaffAsync("iter@cimef.test", Roles.Admin);
        var hash = await factory.WithDbAsync(db => db.Users.Where(u => u.Email == "iter@cimef.test").Select(u => u.PasswordHash!).SingleAsync());
        var bytes = Convert.FromBase64String(hash);
        Assert.Equal(0x01, bytes[0]); // Identity v3 format
        var iterations = (bytes[5] << 24) | (bytes[6] << 16) | (bytes[7] << 8) | bytes[8];
        Assert.True(iterations >= 210_000, $"iterations = {iterations}");
        Assert.DoesNotContain(CimefFactory.StaffPassword, hash);
    }

    [Fact]
    public async Task A_disabled_account_cannot_sign_in()
    {
        await factory.CreateStaffAsync("off@cimef.test", Roles.Secretary);
        await factory.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<StaffUser>>();
            var u = (await users.FindByEmailAsync("off@cimef.test"))!;
            u.IsDisabled = true;
            await users.UpdateAsync(u);
        });
        var response = await factory.NewClient().PostFormAsync("/Account/SignIn", Form("off@cimef.test", CimefFactory.StaffPassword));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Sign_in_post_without_antiforgery_token_is_refused()
    {
        await factory.CreateStaffAsync("csrf@cimef.test", Roles.Secretary);
        var client = factory.NewClient();
        var response = await client.PostAsync("/Account/SignIn", new FormUrlEncodedContent(Form("csrf@cimef.test", CimefFactory.StaffPassword)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
